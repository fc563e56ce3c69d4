/**
 * Running swtpm (libtpms, a real TPM 2.0 in software) for development, tests and benchmarks: a
 * fresh TPM in its own state directory, on a unix socket or on free TCP ports, stopped by its pid.
 *
 * @module
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KeywardError } from "@keyward/attest/errors";
import { readTextBounded } from "../io/read-file.ts";

const SWTPM_CA = { kind: "certificate", what: "swtpm CA certificate" } as const;

/** A running swtpm. */
export interface Swtpm {
  /** `unix:PATH` or `tcp://127.0.0.1:PORT`. */
  readonly uri: string;
  /** The tpm2-tools TCTI string for the same TPM. */
  readonly tcti: string;
  readonly stateDir: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/**
 * Starts a fresh swtpm with `--flags not-need-init,startup-clear` (so it is ready for commands).
 * @throws ERR_TPM_TRANSPORT when swtpm is missing or does not start
 */
export async function startSwtpm(
  options: {
    readonly transport?: "unix" | "tcp";
    readonly stateDir?: string;
    /**
     * Start it powered off, as a bare `swtpm socket` is: every command fails with TPM_RC_FAILURE
     * until CMD_INIT on the control channel (then TPM_RC_INITIALIZE until TPM2_Startup).
     */
    readonly poweredOff?: boolean;
  } = {},
): Promise<Swtpm> {
  const ownDir = options.stateDir === undefined;
  const stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), "keyward-swtpm-"));
  const transport = options.transport ?? "unix";
  for (let attempt = 0; attempt < 5; attempt++) {
    let server: string[];
    let uri: string;
    let tcti: string;
    if (transport === "unix") {
      const path = join(stateDir, "tpm.sock");
      server = ["--server", `type=unixio,path=${path}`, "--ctrl", `type=unixio,path=${path}.ctrl`];
      uri = `unix:${path}`;
      tcti = `swtpm:path=${path}`;
    } else {
      const port = await freePortPair();
      server = [
        "--server",
        `type=tcp,port=${port},bindaddr=127.0.0.1`,
        "--ctrl",
        `type=tcp,port=${port + 1},bindaddr=127.0.0.1`,
      ];
      uri = `tcp://127.0.0.1:${port}`;
      tcti = `swtpm:host=127.0.0.1,port=${port}`;
    }
    const child: ChildProcess = spawn(
      "swtpm",
      [
        "socket",
        "--tpm2",
        ...server,
        "--tpmstate",
        `dir=${stateDir}`,
        ...(options.poweredOff === true ? [] : ["--flags", "not-need-init,startup-clear"]),
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    const spawnError = new Promise<Error>((resolve) => child.once("error", resolve));
    const ready = await Promise.race([
      waitUntilReachable(uri).then(() => "ready" as const),
      exited.then(() => "exited" as const),
      spawnError.then((e) => e),
    ]);
    if (ready instanceof Error) {
      throw new KeywardError(
        "ERR_TPM_TRANSPORT",
        "swtpm is not installed (scripts/system-deps.sh installs it)",
        { cause: ready },
      );
    }
    if (ready === "ready" && child.pid !== undefined) {
      const pid = child.pid;
      // If this process ends without stop(), do not leave the TPM running.
      const reap = () => {
        if (child.exitCode === null) process.kill(pid, "SIGTERM");
      };
      process.once("exit", reap);
      return {
        uri,
        tcti,
        stateDir,
        pid,
        async stop() {
          process.removeListener("exit", reap);
          if (child.exitCode === null) {
            process.kill(pid, "SIGTERM");
            await exited;
          }
          if (ownDir) rmSync(stateDir, { recursive: true, force: true });
        },
      };
    }
    if (transport === "unix" || !/in use/i.test(stderr)) {
      throw new KeywardError("ERR_TPM_TRANSPORT", `swtpm did not start: ${stderr.trim()}`);
    }
  }
  throw new KeywardError("ERR_TPM_TRANSPORT", "swtpm did not find free ports");
}

async function waitUntilReachable(uri: string): Promise<void> {
  const { connect } = await import("node:net");
  const target = uri.startsWith("unix:")
    ? { path: uri.slice(5) }
    : { host: "127.0.0.1", port: Number(uri.split(":").pop()) };
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(target);
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new KeywardError("ERR_TPM_TRANSPORT", "swtpm did not become reachable");
}

// Two consecutive free ports (swtpm's control port is the command port + 1). Another process may
// take one in between; the caller retries when swtpm reports the port in use.
async function freePortPair(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createServer();
      s.once("error", reject);
      s.listen(0, "127.0.0.1", () => {
        const address = s.address();
        s.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0));
      });
    });
    if (port > 0 && port < 65535) {
      const second = await new Promise<boolean>((resolve) => {
        const s = createServer();
        s.once("error", () => resolve(false));
        s.listen(port + 1, "127.0.0.1", () => s.close(() => resolve(true)));
      });
      if (second) return port;
    }
  }
}

/** What {@link provisionSwtpm} made: a TPM state with EKs and their certificates, and the CA. */
export interface ProvisionedTpm {
  readonly stateDir: string;
  /** The manufacturer root (swtpm_localca's root CA), PEM. */
  readonly rootCaPem: string;
  /** The issuing CA of the EK certificates, PEM. */
  readonly issuerCaPem: string;
}

/**
 * Manufactures a TPM state like a vendor would: an RSA-2048 EK at 0x81010001 with its certificate
 * in NV 0x01c00002 (and an ECC EK), signed by a private swtpm_localca CA in `caDir`.
 * @throws ERR_TPM_TRANSPORT when swtpm_setup fails
 */
export function provisionSwtpm(stateDir: string, caDir: string): ProvisionedTpm {
  mkdirSync(join(caDir, "ca"), { recursive: true, mode: 0o700 });
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(
    join(caDir, "swtpm-localca.conf"),
    `statedir = ${caDir}/ca\nsigningkey = ${caDir}/ca/signkey.pem\nissuercert = ${caDir}/ca/issuercert.pem\ncertserial = ${caDir}/ca/certserial\n`,
  );
  writeFileSync(
    join(caDir, "swtpm-localca.options"),
    "--platform-manufacturer Keyward\n--platform-version 2.1\n--platform-model swtpm\n",
  );
  writeFileSync(
    join(caDir, "swtpm_setup.conf"),
    `create_certs_tool = /usr/bin/swtpm_localca\ncreate_certs_tool_config = ${caDir}/swtpm-localca.conf\ncreate_certs_tool_options = ${caDir}/swtpm-localca.options\nactive_pcr_banks = sha256\n`,
  );
  const r = spawnSync(
    "swtpm_setup",
    [
      "--tpm2",
      "--tpmstate",
      stateDir,
      "--config",
      join(caDir, "swtpm_setup.conf"),
      "--create-ek-cert",
      "--create-platform-cert",
      "--lock-nvram",
      "--overwrite",
    ],
    { encoding: "utf8" },
  );
  if (r.status !== 0)
    throw new KeywardError(
      "ERR_TPM_TRANSPORT",
      `swtpm_setup failed: ${(r.stderr || r.stdout || String(r.error)).trim()}`,
    );
  return {
    stateDir,
    rootCaPem: readTextBounded(join(caDir, "ca", "swtpm-localca-rootca-cert.pem"), SWTPM_CA),
    issuerCaPem: readTextBounded(join(caDir, "ca", "issuercert.pem"), SWTPM_CA),
  };
}
