/**
 * The gateway's commands, over the enclave SDK's attester and the attested-key library.
 * Paths are absolute (the launcher runs the app in its own directory).
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { toHex } from "@keyward/attest/bytes";
import {
  KEY_ALGORITHMS,
  type KeyAlgorithm,
  SIGNATURE_FORMATS,
  type SignatureFormat,
} from "@keyward/attest/signer";
import { openAttester } from "@keyward/platform/enclave";
import { readFileBounded, readTextBounded } from "@keyward/platform/io";
import {
  decryptWithAttestedKey,
  generateAttestedKey,
  readSealedKey,
  signData,
  unsealSigningKey,
  writeKeyDir,
} from "@keyward/platform/signer";

const OPTIONS = {
  out: { type: "string" },
  key: { type: "string" },
  in: { type: "string" },
  format: { type: "string" },
  purpose: { type: "string" },
  seal: { type: "string" },
  collateral: { type: "string" },
  algorithm: { type: "string" },
  evidence: { type: "string" },
  seconds: { type: "string" },
} as const;

/** Runs one gateway command; returns what it prints. */
export async function runGateway(argv: readonly string[]): Promise<Record<string, unknown>> {
  const [mode, ...rest] = argv;
  const { values } = parseArgs({ args: [...rest], options: OPTIONS, strict: true });
  const attester = openAttester();
  const need = (v: string | undefined, flag: string): string => {
    if (v === undefined) throw usage(`${mode} needs --${flag}`);
    return v;
  };
  const sealPolicy = values.seal ?? "mrenclave";
  if (sealPolicy !== "mrenclave" && sealPolicy !== "mrsigner") throw usage("--seal is mrenclave or mrsigner");
  const collateral =
    values.collateral === undefined
      ? undefined
      : readTextBounded(values.collateral, { kind: "collateral", what: "collateral" });

  if (mode === "keygen" || mode === "rotate") {
    const out = need(values.out, "out");
    let purpose = values.purpose ?? "iot-readings";
    let algorithm = (values.algorithm ?? "ES256") as KeyAlgorithm;
    if (!KEY_ALGORITHMS.includes(algorithm))
      throw usage(`--algorithm is one of ${KEY_ALGORITHMS.join(", ")}`);
    const evidence = values.evidence ?? "keyward";
    if (evidence !== "keyward" && evidence !== "oe") throw usage("--evidence is keyward or oe");
    let generation = 1;
    if (mode === "rotate") {
      // The old key's purpose and generation come from inside its seal, never from a file outside.
      const old = await unsealSigningKey(attester, readSealedKey(need(values.key, "key")));
      purpose = old.purpose;
      algorithm = old.algorithm;
      generation = old.generation + 1;
    }
    const generated = await generateAttestedKey(attester, {
      purpose,
      generation,
      algorithm,
      evidenceFormat: evidence === "oe" ? "oe-custom-claims" : "keyward",
      sealPolicy,
      ...(collateral === undefined ? {} : { collateral }),
    });
    writeKeyDir(out, generated);
    return { keyDir: out, keyId: toHex(generated.key.keyId), algorithm, purpose, generation, sealPolicy };
  }
  if (mode === "sign") {
    const format = (values.format ?? "cose") as SignatureFormat;
    if (!SIGNATURE_FORMATS.includes(format)) throw usage("--format is cose, der or raw");
    const key = await unsealSigningKey(attester, readSealedKey(need(values.key, "key")));
    const data = readFileBounded(need(values.in, "in"), { kind: "signedData", what: "data to sign" });
    const out = need(values.out, "out");
    writeFileSync(out, signData(key, data, format));
    return { signature: out, format, keyId: toHex(key.keyId), bytes: data.byteLength };
  }
  if (mode === "bench-sign") {
    // Signatures per second in here, for `npm run bench` (bench/signer.bench.ts).
    const format = (values.format ?? "cose") as SignatureFormat;
    if (!SIGNATURE_FORMATS.includes(format)) throw usage("--format is cose, der or raw");
    const key = await unsealSigningKey(attester, readSealedKey(need(values.key, "key")));
    const data = readFileBounded(need(values.in, "in"), { kind: "signedData", what: "data to sign" });
    const seconds = Math.min(Math.max(Number(values.seconds ?? "2"), 0.1), 60);
    for (let i = 0; i < 50; i++) signData(key, data, format);
    const start = performance.now();
    let n = 0;
    while (performance.now() - start < seconds * 1000) {
      signData(key, data, format);
      n++;
    }
    return { format, signatures: n, seconds: (performance.now() - start) / 1000 };
  }
  if (mode === "decrypt") {
    // A JWE made for this enclave's attested key (keyward signer encrypt) opens only in here.
    const key = await unsealSigningKey(attester, readSealedKey(need(values.key, "key")));
    const jwe = new TextDecoder().decode(
      readFileBounded(need(values.in, "in"), { kind: "signedData", what: "JWE" }),
    );
    const plaintext = await decryptWithAttestedKey(key, jwe.trim());
    const out = need(values.out, "out");
    writeFileSync(out, plaintext, { mode: 0o600, flag: "wx" });
    return { plaintext: out, keyId: toHex(key.keyId), bytes: plaintext.byteLength };
  }
  if (mode === "identity") {
    const me = await attester.identity();
    if (me.tee !== "sgx") throw usage("expected an SGX enclave");
    return {
      mrEnclave: toHex(me.mrEnclave),
      mrSigner: toHex(me.mrSigner),
      isvProdId: me.isvProdId,
      isvSvn: me.isvSvn,
    };
  }
  throw usage(`unknown mode ${String(mode)}: keygen, sign, rotate or identity`);
}

function usage(message: string): Error & { code: string } {
  return Object.assign(new Error(message), { code: "ERR_USAGE" });
}
