/**
 * Running the enclave side of `keyward signer`: with `--manifest`, the manifest's app (the IoT
 * gateway) under the simulated launcher, which plays the CPU for the data directory's simulated
 * platform; without it, this process itself, which must then be inside an enclave (Gramine, or
 * the launcher's channel), since a key made outside one could not be attested.
 *
 * @module
 */
import { join, resolve } from "node:path";
import { toHex } from "@keyward/attest/bytes";
import { isErrorCode, KeywardError } from "@keyward/attest/errors";
import { KEY_ALGORITHMS, type SignatureFormat } from "@keyward/attest/signer";
import { readFileBounded } from "@keyward/platform/io";
import { dataDir } from "./config.ts";

/** One enclave-side signer operation, its paths absolute. */
export type SignerOp =
  | {
      readonly op: "keygen";
      readonly out: string;
      readonly purpose?: string;
      readonly seal?: string;
      readonly algorithm?: string;
      readonly evidence?: string;
    }
  | { readonly op: "decrypt"; readonly key: string; readonly in: string; readonly out: string }
  | { readonly op: "rotate"; readonly key: string; readonly out: string; readonly seal?: string }
  | {
      readonly op: "sign";
      readonly key: string;
      readonly in: string;
      readonly out: string;
      readonly format: SignatureFormat;
    };

/**
 * Runs `op` in the enclave: the manifest's app under the simulated launcher, or this process.
 * @throws the app's error code (ERR_SEALED_BLOB_INVALID, ERR_IO, …), ERR_ATTESTER_UNAVAILABLE
 */
export async function runInEnclave(
  op: SignerOp,
  manifestPath: string | undefined,
  dataDirFlag: string | undefined,
): Promise<Record<string, unknown>> {
  if (manifestPath !== undefined) return viaLauncher(op, manifestPath, dataDirFlag);
  return inProcess(op);
}

async function viaLauncher(
  op: SignerOp,
  manifestPath: string,
  dataDirFlag: string | undefined,
): Promise<Record<string, unknown>> {
  const { launchEnclave, loadManifest } = await import("@keyward/platform/launcher");
  const { loadSimPlatform } = await import("@keyward/platform/sim");
  const simDir = join(dataDir(dataDirFlag), "sim");
  const platform = loadSimPlatform(simDir);
  const args: string[] = [op.op];
  const flag = (name: string, v: string | undefined) => {
    if (v !== undefined) args.push(`--${name}`, v);
  };
  if (op.op === "keygen" || op.op === "rotate") {
    flag("out", resolve(op.out));
    if (op.op === "rotate") flag("key", resolve(op.key));
    if (op.op === "keygen") {
      flag("purpose", op.purpose);
      flag("algorithm", op.algorithm);
      flag("evidence", op.evidence);
    }
    flag("seal", op.seal);
    // Collateral is public and signed by itself: the host hands it in for the bundle to carry.
    flag("collateral", join(resolve(simDir), "collateral-sgx.json"));
  } else {
    flag("key", resolve(op.key));
    flag("in", resolve(op.in));
    flag("out", resolve(op.out));
    if (op.op === "sign") flag("format", op.format);
  }
  const running = launchEnclave({ manifest: loadManifest(manifestPath), platform, args, output: "pipe" });
  let stdout = "";
  let stderr = "";
  running.child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    if (stdout.length < 1 << 20) stdout += d;
  });
  running.child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    if (stderr.length < 1 << 20) stderr += d;
  });
  const status = await running.exited;
  if (status !== 0) throw appError(stderr, status);
  const line = stdout.trim().split("\n").at(-1) ?? "";
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw new KeywardError("ERR_ATTESTER_FAILED", "the enclave app printed no result");
  }
}

function appError(stderr: string, status: number): KeywardError {
  for (const line of stderr.trim().split("\n").reverse()) {
    try {
      const e = (JSON.parse(line) as { error?: { code?: unknown; message?: unknown } }).error;
      if (e !== undefined && typeof e.code === "string" && typeof e.message === "string")
        return new KeywardError(
          isErrorCode(e.code) ? e.code : "ERR_ATTESTER_FAILED",
          `enclave: ${e.message}`,
        );
    } catch {
      // not the app's error line
    }
  }
  return new KeywardError("ERR_ATTESTER_FAILED", `the enclave app exited with status ${status}`);
}

// Run outside an enclave without --manifest, say how to run it (the attester alone cannot know
// this command has a --manifest).
function withoutTeeHint<T>(open: () => T): T {
  try {
    return open();
  } catch (e) {
    if (e instanceof KeywardError && e.code === "ERR_ATTESTER_UNAVAILABLE")
      throw new KeywardError(
        "ERR_ATTESTER_UNAVAILABLE",
        `${e.message}: run it inside the enclave app, or add --manifest (e.g. examples/iot-gateway/app.toml) to run that app under the simulated launcher`,
      );
    throw e;
  }
}

async function inProcess(op: SignerOp): Promise<Record<string, unknown>> {
  const { openAttester } = await import("@keyward/platform/enclave");
  const signer = await import("@keyward/platform/signer");
  const attester = withoutTeeHint(openAttester);
  if (op.op === "decrypt") {
    const key = await signer.unsealSigningKey(attester, signer.readSealedKey(op.key));
    const jwe = new TextDecoder().decode(readFileBounded(op.in, { kind: "signedData", what: "JWE" }));
    const plaintext = await signer.decryptWithAttestedKey(key, jwe.trim());
    const { writeFileSync } = await import("node:fs");
    writeFileSync(op.out, plaintext, { mode: 0o600, flag: "wx" });
    return { plaintext: op.out, keyId: toHex(key.keyId), bytes: plaintext.byteLength };
  }
  if (op.op === "sign") {
    const key = await signer.unsealSigningKey(attester, signer.readSealedKey(op.key));
    const data = readFileBounded(op.in, { kind: "signedData", what: "data to sign" });
    const { writeFileSync } = await import("node:fs");
    writeFileSync(op.out, signer.signData(key, data, op.format));
    return { signature: op.out, format: op.format, keyId: toHex(key.keyId), bytes: data.byteLength };
  }
  const sealPolicy = op.seal === "mrsigner" ? "mrsigner" : "mrenclave";
  let purpose = op.op === "keygen" ? (op.purpose ?? "iot-readings") : "";
  let algorithm = KEY_ALGORITHMS.find(
    (a) => a === (op.op === "keygen" ? (op.algorithm ?? "ES256") : "ES256"),
  );
  if (algorithm === undefined)
    throw new KeywardError("ERR_USAGE", `--algorithm is one of ${KEY_ALGORITHMS.join(", ")}`);
  let generation = 1;
  if (op.op === "rotate") {
    const old = await signer.unsealSigningKey(attester, signer.readSealedKey(op.key));
    purpose = old.purpose;
    algorithm = old.algorithm;
    generation = old.generation + 1;
  }
  const evidenceFormat = op.op === "keygen" && op.evidence === "oe" ? "oe-custom-claims" : "keyward";
  const generated = await signer.generateAttestedKey(attester, {
    purpose,
    generation,
    algorithm,
    evidenceFormat,
    sealPolicy,
  });
  signer.writeKeyDir(op.out, generated);
  return { keyDir: op.out, keyId: toHex(generated.key.keyId), algorithm, purpose, generation, sealPolicy };
}
