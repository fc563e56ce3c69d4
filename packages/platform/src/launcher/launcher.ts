/**
 * The simulated enclave launcher: it plays the CPU and the quoting enclave. It measures the
 * manifest and trusted files itself, refuses files that change before load, runs the app as a
 * child process with a private channel, and answers the app's requests for quotes (filling in its
 * own measurement) and sealing keys (derived like EGETKEY). A development tool, not a security
 * boundary: see docs/enclave.md.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { hkdfSync } from "node:crypto";
import type { Socket } from "node:net";
import { join } from "node:path";
import { bytesEqual, concatBytes, fromHex, toHex } from "@keyward/attest/bytes";
import { KeywardError } from "@keyward/attest/errors";
import { moduleCommand } from "../runtime/child-module.ts";
import type { SimPlatform } from "../sim/platform.ts";
import {
  CHANNEL_ENV,
  CHANNEL_FD,
  type ChannelRequest,
  type ChannelResponse,
  MAX_MESSAGE,
} from "./channel-protocol.ts";
import type { EnclaveManifest } from "./manifest.ts";
import { hashTrusted, type Measurement, measure } from "./measurement.ts";

/** Options of {@link launchEnclave}. */
export interface LaunchOptions {
  readonly manifest: EnclaveManifest;
  readonly platform: SimPlatform;
  /** Extra arguments after the manifest's own. */
  readonly args?: readonly string[];
  /** Where passed-through variables are read from. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** stdout/stderr of the app: inherited (default) or piped to the caller. */
  readonly output?: "inherit" | "pipe";
  /** Called between measurement and load (tests use it to change a file in that window). */
  readonly afterMeasure?: () => void;
}

/** A running enclave. */
export interface RunningEnclave {
  readonly measurement: Measurement;
  readonly child: ChildProcess;
  /** Resolves with the app's exit status. */
  readonly exited: Promise<number>;
}

/**
 * Measures and launches an enclave app.
 * @throws ERR_ENCLAVE_FILE_CHANGED, ERR_IO, ERR_KEY_INVALID
 */
export function launchEnclave(options: LaunchOptions): RunningEnclave {
  const { manifest, platform } = options;
  const measurement = measure(manifest);
  options.afterMeasure?.();
  // Load: every trusted file must still be what was measured.
  for (const f of manifest.trustedFiles) {
    const now = hashTrusted(manifest, f);
    if (!bytesEqual(now, measurement.files.get(f) ?? new Uint8Array())) {
      throw new KeywardError(
        "ERR_ENCLAVE_FILE_CHANGED",
        `trusted file ${f} changed between measurement and load`,
        { detail: { file: f } },
      );
    }
  }
  const env: Record<string, string> = { [CHANNEL_ENV]: `fd:${CHANNEL_FD}` };
  for (const name of manifest.envPassthrough) {
    const v = options.env?.[name];
    if (v !== undefined) env[name] = v;
  }
  // `node ENTRY ARGS…` from sources; a single executable runs the module itself (child-module.ts).
  const command = moduleCommand(join(manifest.dir, manifest.entrypoint), [
    ...manifest.argv,
    ...(options.args ?? []),
  ]);
  const child = spawn(command.file, command.args, {
    cwd: manifest.dir,
    env,
    stdio: ["ignore", options.output ?? "inherit", options.output ?? "inherit", "pipe"],
  });
  const channel = child.stdio[CHANNEL_FD] as Socket | null;
  if (channel !== null) serveChannel(channel, measurement, platform);
  const exited = new Promise<number>((resolve) => {
    child.once("exit", (code, signal) => resolve(code ?? (signal === null ? 1 : 128)));
  });
  return { measurement, child, exited };
}

function serveChannel(socket: Socket, m: Measurement, platform: SimPlatform): void {
  let buffered = "";
  socket.setEncoding("utf8");
  socket.on("error", () => socket.destroy());
  socket.on("data", (chunk: string) => {
    buffered += chunk;
    if (buffered.length > MAX_MESSAGE && !buffered.includes("\n")) {
      socket.destroy();
      return;
    }
    let nl = buffered.indexOf("\n");
    while (nl >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      socket.write(`${JSON.stringify(answer(line, m, platform))}\n`);
      nl = buffered.indexOf("\n");
    }
  });
}

function answer(line: string, m: Measurement, platform: SimPlatform): ChannelResponse {
  let id = 0;
  try {
    const req = JSON.parse(line) as ChannelRequest;
    id = typeof req.id === "number" ? req.id : 0;
    if (req.op === "quote") {
      const reportData = fromHex(String(req.reportData), "reportData");
      if (reportData.byteLength !== 64)
        throw new KeywardError("ERR_INPUT_INVALID", "report data must be 64 bytes");
      const quote = platform.quoteSgx({
        mrEnclave: m.mrEnclave,
        mrSigner: m.mrSigner,
        isvProdId: m.isvProdId,
        isvSvn: m.isvSvn,
        // INIT | MODE64BIT, and DEBUG when the manifest says so; XFRM x87 | SSE.
        attributes: Uint8Array.of(m.debug ? 0x07 : 0x05, 0, 0, 0, 0, 0, 0, 0, 0x03, 0, 0, 0, 0, 0, 0, 0),
        reportData,
      });
      return { id, ok: true, result: { kind: "sgx-dcap", quote: toHex(quote) } };
    }
    if (req.op === "identity") {
      return {
        id,
        ok: true,
        result: {
          mrEnclave: toHex(m.mrEnclave),
          mrSigner: toHex(m.mrSigner),
          isvProdId: m.isvProdId,
          isvSvn: m.isvSvn,
          debug: m.debug,
        },
      };
    }
    if (req.op === "sealKey") {
      return { id, ok: true, result: { key: toHex(sealingKey(platform, m, req)) } };
    }
    throw new KeywardError("ERR_ENCLAVE_CHANNEL", "unknown request");
  } catch (e) {
    const code = e instanceof KeywardError ? e.code : "ERR_ENCLAVE_CHANNEL";
    return { id, ok: false, code, message: e instanceof Error ? e.message : "malformed request" };
  }
}

/**
 * EGETKEY, simulated: HKDF-SHA256 from the platform's sealing secret, bound to the policy's
 * identity (MRENCLAVE, or MRSIGNER and ISVPRODID), the key id and the SVN. An enclave may ask for
 * its own SVN or a lower one (to open data sealed by an older version), never a higher one.
 */
function sealingKey(
  platform: SimPlatform,
  m: Measurement,
  req: Extract<ChannelRequest, { op: "sealKey" }>,
): Uint8Array {
  const keyId = fromHex(String(req.keyId), "keyId");
  if (keyId.byteLength !== 32) throw new KeywardError("ERR_INPUT_INVALID", "key id must be 32 bytes");
  if (!Number.isInteger(req.isvSvn) || req.isvSvn < 0)
    throw new KeywardError("ERR_INPUT_INVALID", "isvSvn must be a non-negative integer");
  if (req.isvSvn > m.isvSvn) {
    throw new KeywardError(
      "ERR_SEAL_SVN_TOO_HIGH",
      `a sealing key for SVN ${req.isvSvn} was asked by an enclave of SVN ${m.isvSvn}`,
    );
  }
  const prodId = Uint8Array.of(m.isvProdId >> 8, m.isvProdId & 0xff);
  const identity =
    req.policy === "mrenclave"
      ? concatBytes(Uint8Array.of(1), m.mrEnclave)
      : req.policy === "mrsigner"
        ? concatBytes(Uint8Array.of(2), m.mrSigner, prodId)
        : undefined;
  if (identity === undefined)
    throw new KeywardError("ERR_INPUT_INVALID", "policy must be mrenclave or mrsigner");
  const info = concatBytes(
    identity,
    keyId,
    Uint8Array.of(req.isvSvn >> 8, req.isvSvn & 0xff),
    Uint8Array.of(m.debug ? 1 : 0),
  );
  return new Uint8Array(
    hkdfSync("sha256", platform.sealingSecret(), "keyward-simulated-egetkey-v1", info, 32),
  );
}
