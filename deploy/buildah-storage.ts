/**
 * A private buildah storage for the image tests: its own root and run directories in a temporary
 * directory (vfs driver, as this machine needs), images built into it by deploy/build_image.sh with
 * the local base stand-ins, and everything removed afterwards.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const BUILD_IMAGE = fileURLToPath(new URL("./build_image.sh", import.meta.url));

/** One test file's buildah storage. */
export class BuildahStorage {
  /** The temporary directory (scratch directories for volumes may go in it too). */
  readonly dir: string;

  constructor(prefix: string) {
    this.dir = mkdtempSync(join(tmpdir(), prefix));
  }

  /** The global flags that select this storage: `--root`, `--runroot`, `--storage-driver vfs`. */
  args(): string[] {
    return ["--root", join(this.dir, "root"), "--runroot", join(this.dir, "run"), "--storage-driver", "vfs"];
  }

  /** `buildah ARGS` on this storage; its stdout, trimmed. @throws Error with the exit status and stderr */
  buildah(...args: string[]): string {
    const r = spawnSync("buildah", [...this.args(), ...args], { encoding: "utf8", maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`buildah ${args.join(" ")}: exit ${r.status}\n${r.stderr}`);
    return r.stdout.trim();
  }

  /**
   * Builds `targets` with `build_image.sh --local-bases` into this storage; returns its report
   * (one `IMAGE:TAG SIZE` line per image). @throws Error with the end of the script's stderr
   */
  build(...targets: string[]): string {
    const r = spawnSync(
      "bash",
      [BUILD_IMAGE, "--local-bases", "--quiet", ...this.args().slice(0, 4), ...targets],
      {
        encoding: "utf8",
        maxBuffer: 64 << 20,
      },
    );
    if (r.status !== 0) throw new Error(`build_image.sh failed:\n${r.stderr.slice(-4000)}`);
    return r.stdout.trim();
  }

  /** Removes every working container, then the storage. */
  remove(): void {
    try {
      this.buildah("rm", "--all");
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}
