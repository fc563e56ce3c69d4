/** The `keyward signer …` commands: attested signing keys, enclave side and cloud side. */
import { DATA_DIR, DCAP_TRUST } from "./common.ts";
import type { CommandSpec } from "./types.ts";

const MANIFEST = {
  type: "string",
  value: "FILE",
  file: "manifest",
  help: "run the enclave app of this manifest under the simulated launcher (e.g. examples/iot-gateway/app.toml); without it, this process must be the enclave",
} as const;
const SEAL = {
  type: "string",
  value: "POLICY",
  choices: ["mrenclave", "mrsigner"],
  help: "seal the private key to this exact enclave (mrenclave, default) or to its signer and product (mrsigner)",
} as const;
const FORMAT = {
  type: "string",
  value: "FORMAT",
  choices: ["cose", "der", "raw"],
  help: "COSE_Sign1 ES256 (RFC 9052, default), DER ECDSA (openssl dgst -verify), or raw r‖s",
} as const;
const POLICY = {
  type: "string",
  value: "FILE",
  file: "policy",
  help: "reference values the key's enclave must meet (MRENCLAVE from keyward enclave measure or sigstruct)",
} as const;
const COLLATERAL = {
  type: "string",
  value: "FILE",
  file: "collateral",
  help: "collateral JSON for the bundle's quote (default: the collateral the bundle carries)",
} as const;

/** `keyward signer keygen`. */
export const signerKeygen = {
  name: "signer keygen",
  summary: "generate a P-256 key inside an enclave, seal it, and write its attested key bundle",
  synopsis:
    "--out DIR [--manifest FILE] [--purpose NAME] [--seal mrenclave|mrsigner] [--data-dir DIR] [--json]",
  description:
    "Writes DIR/key.sealed (0600, sealed to the enclave), DIR/bundle.json (public key, evidence whose report " +
    "data binds the key, its purpose and generation, and collateral when available) and DIR/public.pem. " +
    "Refuses a directory that already holds a key.",
  options: {
    out: { type: "string", value: "DIR", path: "dir", help: "the new key directory" },
    manifest: MANIFEST,
    purpose: { type: "string", value: "NAME", help: "what the key is for (default: iot-readings)" },
    algorithm: {
      type: "string",
      value: "ALG",
      choices: ["ES256", "ECDH-ES+A256KW", "RSA-OAEP-256"],
      help: "ES256 signing key (default), or an encryption key: P-256 for ECDH-ES+A256KW, RSA-3072 for RSA-OAEP-256",
    },
    evidence: {
      type: "string",
      value: "FORMAT",
      choices: ["keyward", "oe"],
      help: "bind the key with Keyward's report data (default) or Open Enclave custom claims (Event, Public key hash, Generation)",
    },
    seal: SEAL,
    ...DATA_DIR,
  },
  json: true,
  examples: ["--out gateway-key --manifest examples/iot-gateway/app.toml"],
} as const satisfies CommandSpec;

/** `keyward signer rotate`. */
export const signerRotate = {
  name: "signer rotate",
  summary: "make the next key of a key directory (generation + 1) with its own bundle",
  synopsis: "--key DIR --out NEWDIR [--manifest FILE] [--seal mrenclave|mrsigner] [--data-dir DIR] [--json]",
  description:
    "Unseals the old key inside the enclave to read its purpose and generation, then generates a new key " +
    "bound to generation + 1. The old directory is left as it is: its bundle still verifies old signatures.",
  options: {
    key: { type: "string", value: "DIR", path: "dir", help: "the current key directory" },
    out: { type: "string", value: "NEWDIR", path: "dir", help: "the new key directory" },
    manifest: MANIFEST,
    seal: SEAL,
    ...DATA_DIR,
  },
  json: true,
  examples: ["--key gateway-key --out gateway-key-2 --manifest examples/iot-gateway/app.toml"],
} as const satisfies CommandSpec;

/** `keyward signer sign`. */
export const signerSign = {
  name: "signer sign",
  summary: "sign a file inside the enclave with its sealed key (COSE_Sign1 by default)",
  synopsis:
    "--key DIR --in FILE [--format cose|der|raw] [--out FILE] [--manifest FILE] [--data-dir DIR] [--json]",
  description: "Writes FILE.cose (cose), FILE.sig (der) or FILE.rsig (raw) unless --out says where.",
  options: {
    key: { type: "string", value: "DIR", path: "dir", help: "the key directory" },
    in: { type: "string", value: "FILE", file: "signedData", help: "the data to sign" },
    format: FORMAT,
    out: { type: "string", value: "FILE", path: "file", help: "where to write the signature" },
    manifest: MANIFEST,
    ...DATA_DIR,
  },
  json: true,
  examples: ["--key gateway-key --in reading.json --manifest examples/iot-gateway/app.toml"],
} as const satisfies CommandSpec;

/** `keyward signer verify-bundle`. */
export const signerVerifyBundle = {
  name: "signer verify-bundle",
  summary: "verify an attested key bundle: evidence, the key's binding, and the enclave against a policy",
  synopsis:
    "BUNDLE --policy FILE [--collateral FILE | --pccs URL] [--trust-sim | --sim-root FILE] [--at ISO-8601] [--json]",
  description:
    "Exit 0 when the evidence verifies, binds this public key (purpose, generation) and the policy accepts the " +
    "enclave; 1 otherwise (ERR_SIGNER_BINDING_MISMATCH for a swapped key).",
  positionals: [{ name: "BUNDLE", help: "bundle.json of a key directory", file: "document" }],
  options: {
    policy: POLICY,
    "reference-manifest": {
      type: "string",
      value: "FILE",
      file: "manifest",
      help: "also require the MRENCLAVE, MRSIGNER and ISVPRODID rebuilt from this manifest and its trusted files",
    },
    sigstruct: {
      type: "string",
      value: "FILE",
      file: "evidence",
      help: "also require the MRENCLAVE (ENCLAVEHASH), MRSIGNER and ISVPRODID of this verified SGX SIGSTRUCT",
    },
    collateral: COLLATERAL,
    pccs: { type: "string", value: "URL", help: "fetch the collateral from this PCS or PCCS instead" },
    ...DCAP_TRUST,
  },
  json: true,
  examples: ["gateway-key/bundle.json --policy gateway-policy.json --trust-sim"],
} as const satisfies CommandSpec;

/** `keyward signer verify`. */
export const signerVerify = {
  name: "signer verify",
  summary: "verify a signature made with an attested key, after verifying the key's bundle",
  synopsis:
    "--bundle FILE --in FILE --sig FILE [--format cose|der|raw] [--policy FILE] [--collateral FILE] [--trust-sim | --sim-root FILE] [--at ISO-8601] [--json]",
  description:
    "The bundle is verified as verify-bundle does (without --policy: any enclave on genuine hardware), then the " +
    "signature over FILE under its key. The format is read from the signature when --format is not given.",
  options: {
    bundle: { type: "string", value: "FILE", file: "document", help: "the signer's bundle.json" },
    in: { type: "string", value: "FILE", file: "signedData", help: "the signed data" },
    sig: { type: "string", value: "FILE", file: "evidence", help: "the signature" },
    format: FORMAT,
    policy: POLICY,
    collateral: COLLATERAL,
    ...DCAP_TRUST,
  },
  json: true,
  examples: [
    "--bundle gateway-key/bundle.json --in reading.json --sig reading.json.cose --policy p.json --trust-sim",
  ],
} as const satisfies CommandSpec;

/** `keyward signer sign-image`. */
export const signerSignImage = {
  name: "signer sign-image",
  summary: "sign a container image's manifest digest in the enclave and attach the signature as cosign does",
  synopsis:
    "--key DIR --image REGISTRY/REPO@sha256:DIGEST [--manifest FILE] [--plain-http] [--data-dir DIR] [--json]",
  description:
    "Fetches the image manifest (its bytes must hash to DIGEST), has the enclave sign cosign's Simple Signing " +
    "payload naming the repository and digest (ECDSA P-256, DER), checks the signature under the key's bundle, " +
    "and pushes the signature image under the tag sha256-<hex>.sig (OCI distribution API, anonymous).",
  options: {
    key: {
      type: "string",
      value: "DIR",
      path: "dir",
      help: "the key directory (purpose image-signing, or any)",
    },
    image: {
      type: "string",
      value: "REF",
      help: "REGISTRY/REPOSITORY@sha256:<64 hex>: the image to sign, by digest",
    },
    manifest: MANIFEST,
    "plain-http": { type: "boolean", help: "talk to the registry over plain HTTP (a registry on loopback)" },
    ...DATA_DIR,
  },
  json: true,
  examples: [
    "--key image-key --image registry.example/app@sha256:0123… --manifest examples/iot-gateway/app.toml",
  ],
} as const satisfies CommandSpec;

/** `keyward signer encrypt`. */
export const signerEncrypt = {
  name: "signer encrypt",
  summary:
    "verify an enclave's key bundle, then encrypt a file to its key (JWE) so only that enclave opens it",
  synopsis:
    "--bundle FILE --in FILE [--out FILE.jwe] --policy FILE [--collateral FILE] [--trust-sim | --sim-root FILE] [--at ISO-8601] [--json]",
  description:
    "The bundle is verified and appraised as verify-bundle does; then a compact JWE (ECDH-ES+A256KW for a P-256 " +
    "key, RSA-OAEP-256 for an RSA-3072 key; A256GCM) is written, its kid the key id.",
  options: {
    bundle: { type: "string", value: "FILE", file: "document", help: "the enclave's bundle.json" },
    in: { type: "string", value: "FILE", file: "signedData", help: "the data to encrypt" },
    out: { type: "string", value: "FILE", path: "file", help: "where to write the JWE (default: FILE.jwe)" },
    policy: POLICY,
    collateral: COLLATERAL,
    ...DCAP_TRUST,
  },
  json: true,
  examples: ["--bundle kms-key/bundle.json --in secret.txt --policy kms-policy.json --trust-sim"],
} as const satisfies CommandSpec;

/** `keyward signer decrypt`. */
export const signerDecrypt = {
  name: "signer decrypt",
  summary: "open a JWE made for an enclave's attested key, inside that enclave",
  synopsis: "--key DIR --in FILE.jwe --out FILE [--manifest FILE] [--data-dir DIR] [--json]",
  description: "The plaintext is written 0600, created exclusively.",
  options: {
    key: { type: "string", value: "DIR", path: "dir", help: "the key directory" },
    in: { type: "string", value: "FILE", file: "signedData", help: "the compact JWE" },
    out: { type: "string", value: "FILE", path: "file", help: "where to write the plaintext" },
    manifest: MANIFEST,
    ...DATA_DIR,
  },
  json: true,
  examples: ["--key kms-key --in secret.txt.jwe --out secret.txt --manifest examples/iot-gateway/app.toml"],
} as const satisfies CommandSpec;
