import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { p256FromSpki } from "@keyward/attest/crypto";
import {
  cosignPayload,
  cosignSignatureImage,
  parseImageReference,
  verifySignature,
} from "@keyward/attest/signer";
import { readFileBounded } from "@keyward/platform/io";
import { required } from "../args.ts";
import { pushSignatureImage, repositoryClient } from "../oci-registry.ts";
import { EXIT, type ExitCode, printJson, say } from "../output.ts";
import { runInEnclave } from "../signer-enclave.ts";
import { readBundle } from "../signer-trust.ts";
import { signerSignImage } from "../specs/signer.ts";
import type { Parsed } from "../specs/types.ts";

/**
 * `keyward signer sign-image --key DIR --image REGISTRY/REPO@sha256:HEX [--manifest FILE] [--plain-http]`
 */
export async function run({ values, json }: Parsed<typeof signerSignImage>): Promise<ExitCode> {
  const keyDir = required(values.key, "key", signerSignImage);
  const image = parseImageReference(required(values.image, "image", signerSignImage));
  const bundle = readBundle(join(keyDir, "bundle.json"));
  // Read the manifest before the network: a bad one is a usage problem, found first.
  if (values.manifest !== undefined)
    (await import("@keyward/platform/launcher")).loadManifest(values.manifest);
  const client = repositoryClient(image, { plainHttp: values["plain-http"] === true });
  // The image must exist, and be exactly the bytes the digest names, before anything is signed.
  await client.manifest(image.digest);
  const payload = cosignPayload(image);
  const work = mkdtempSync(join(tmpdir(), "keyward-sign-image-"));
  let signature: Uint8Array;
  try {
    const payloadFile = join(work, "payload.json");
    writeFileSync(payloadFile, payload, { mode: 0o600 });
    const sigFile = join(work, "payload.sig");
    await runInEnclave(
      { op: "sign", key: keyDir, in: payloadFile, out: sigFile, format: "der" },
      values.manifest,
      values["data-dir"],
    );
    signature = readFileBounded(sigFile, { kind: "evidence", what: "signature" });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  // What the enclave returned must verify under the bundle's key before it is published.
  verifySignature("der", p256FromSpki(bundle.publicKey), bundle.keyId, payload, signature);
  const sig = cosignSignatureImage(image, payload, signature);
  const manifestDigest = await pushSignatureImage(client, sig);
  const result = {
    image: `${image.registry}/${image.repository}@${image.digest}`,
    signature: `${image.registry}/${image.repository}:${sig.tag}`,
    signatureManifestDigest: manifestDigest,
    keyId: Buffer.from(bundle.keyId).toString("hex"),
  };
  if (json) printJson(result);
  else say(`signed ${result.image}\nsignature ${result.signature} (${manifestDigest})`);
  return EXIT.ok;
}
