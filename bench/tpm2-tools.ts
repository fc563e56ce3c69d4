/**
 * tpm2-tools as the peer of Keyward's TPM client in the benchmarks: an ECDSA P-256 AK under an
 * ECC EK made by `tpm2_createek`/`tpm2_createak` in a scratch directory, and one `tpm2_quote` of
 * PCR sha256:23 per call (each a process, as a script would run it), leaving `q.msg`, `q.sig` and
 * `ak.pub` in that directory.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** An AK made by tpm2-tools on the TPM at `tcti`. */
export interface Tpm2ToolsAk {
  /** Where `ak.pub`, `q.msg` and `q.sig` are. */
  readonly dir: string;
  /** `tpm2_quote` of PCR sha256:23 with `nonce` (hex) as qualifying data. */
  quote(nonceHex: string): void;
  close(): void;
}

/** Creates the EK and AK with tpm2-tools (TPM2TOOLS_TCTI = `tcti`). @throws Error with the tool's stderr */
export function tpm2ToolsAk(tcti: string): Tpm2ToolsAk {
  const dir = mkdtempSync(join(tmpdir(), "keyward-bench-tpm2-tools-"));
  const env = { ...process.env, TPM2TOOLS_TCTI: tcti };
  const run = (...args: string[]) => {
    const r = spawnSync(args[0] ?? "", args.slice(1), { cwd: dir, env, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${args[0]}: ${r.stderr}`);
  };
  run("tpm2_createek", "-c", "ek.ctx", "-G", "ecc", "-u", "ek.pub");
  run(
    "tpm2_createak",
    "-C",
    "ek.ctx",
    "-c",
    "ak.ctx",
    "-G",
    "ecc",
    "-g",
    "sha256",
    "-s",
    "ecdsa",
    "-u",
    "ak.pub",
  );
  run("tpm2_flushcontext", "-t");
  return {
    dir,
    quote(nonceHex) {
      run(
        "tpm2_quote",
        "-c",
        "ak.ctx",
        "-l",
        "sha256:23",
        "-q",
        nonceHex,
        "-g",
        "sha256",
        "-m",
        "q.msg",
        "-s",
        "q.sig",
      );
      run("tpm2_flushcontext", "-t");
    },
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}
