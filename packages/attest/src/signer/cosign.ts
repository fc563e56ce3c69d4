/**
 * Container image signatures in cosign's format (sigstore/cosign specs/SIGNATURE_SPEC.md), so
 * that users' cosign and policy controllers read what an enclave signed:
 *
 * - the payload is a Simple Signing document (containers-signature(5) "JSON data format") with
 *   `critical.type` = "cosign container image signature", naming the repository and the image
 *   manifest's digest;
 * - the signature is ECDSA P-256 over SHA-256 of the payload, DER, base64 in the layer annotation
 *   `dev.cosignproject.cosign/signature`;
 * - it is stored as an OCI image manifest whose one layer is the payload
 *   (`application/vnd.dev.cosign.simplesigning.v1+json`), tagged `sha256-<hex>.sig` in the image's
 *   repository (tag-based discovery).
 *
 * @module
 */

import { toHex } from "../bytes/hex.ts";
import { sha256 } from "../crypto/digest.ts";
import { KeywardError } from "../errors/keyward-error.ts";

/** The payload's media type. */
export const COSIGN_PAYLOAD_MEDIA_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json";
/** The layer annotation holding the base64 signature. */
export const COSIGN_SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature";
/** `critical.type` of a cosign signature. */
export const COSIGN_TYPE = "cosign container image signature";
/** OCI media types (image-spec v1.1 manifest.md, config.md). */
export const OCI_MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json";
const OCI_CONFIG_MEDIA_TYPE = "application/vnd.oci.image.config.v1+json";

/** `REGISTRY/REPOSITORY@sha256:HEX`, split. */
export interface ImageReference {
  /** host[:port] */
  readonly registry: string;
  /** path components, lower case (distribution-spec "name"). */
  readonly repository: string;
  /** `sha256:<64 hex>`. */
  readonly digest: string;
}

// distribution-spec: name = [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*
const COMPONENT = "[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*";
const REFERENCE = new RegExp(
  `^([A-Za-z0-9.-]+(?::[0-9]{1,5})?)/(${COMPONENT}(?:/${COMPONENT})*)@(sha256:[0-9a-f]{64})$`,
);

/**
 * Parses `REGISTRY/REPOSITORY@sha256:HEX` (a digest, never a tag: a signature names exact bytes).
 * @throws ERR_INPUT_INVALID
 */
export function parseImageReference(ref: string): ImageReference {
  const m = REFERENCE.exec(ref);
  if (m === null || ref.length > 512)
    throw new KeywardError(
      "ERR_INPUT_INVALID",
      `image ${JSON.stringify(ref.slice(0, 100))}: expected REGISTRY/REPOSITORY@sha256:<64 hex digits>`,
    );
  return { registry: m[1] as string, repository: m[2] as string, digest: m[3] as string };
}

/** The signature's tag: the digest with ':' replaced by '-', then `.sig`. */
export function cosignSignatureTag(digest: string): string {
  return `${digest.replace(":", "-")}.sig`;
}

/**
 * The Simple Signing payload cosign writes for `image` (fields in cosign's order, no optional
 * claims), as exact bytes: what is hashed and signed.
 */
export function cosignPayload(image: ImageReference): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({
      critical: {
        identity: { "docker-reference": `${image.registry}/${image.repository}` },
        image: { "docker-manifest-digest": image.digest },
        type: COSIGN_TYPE,
      },
      optional: null,
    }),
  );
}

/**
 * Checks that a payload names `image` (its repository and manifest digest) and is a cosign
 * signature payload.
 * @throws ERR_SIGNER_SIGNATURE_MALFORMED (not a payload), ERR_SIGNER_SIGNATURE_INVALID (another image)
 */
export function checkCosignPayload(payload: Uint8Array, image: ImageReference): void {
  let doc: {
    critical?: { identity?: Record<string, unknown>; image?: Record<string, unknown>; type?: unknown };
  };
  try {
    doc = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(payload));
  } catch {
    throw new KeywardError("ERR_SIGNER_SIGNATURE_MALFORMED", "cosign payload: not JSON");
  }
  const c = doc?.critical;
  if (typeof c !== "object" || c === null || c.type !== COSIGN_TYPE)
    throw new KeywardError(
      "ERR_SIGNER_SIGNATURE_MALFORMED",
      "cosign payload: critical.type is not a cosign signature",
    );
  if (c.image?.["docker-manifest-digest"] !== image.digest)
    throw new KeywardError("ERR_SIGNER_SIGNATURE_INVALID", "cosign payload: signs another manifest digest");
  if (c.identity?.["docker-reference"] !== `${image.registry}/${image.repository}`)
    throw new KeywardError("ERR_SIGNER_SIGNATURE_INVALID", "cosign payload: names another repository");
}

/** An OCI blob to push: its bytes and descriptor digest. */
export interface OciBlob {
  readonly bytes: Uint8Array;
  readonly digest: string;
}

/** The signature image: its config and payload blobs, and its manifest (exact bytes). */
export interface CosignSignatureImage {
  readonly config: OciBlob;
  readonly payload: OciBlob;
  readonly manifest: Uint8Array;
  readonly tag: string;
}

const blob = (bytes: Uint8Array): OciBlob => ({ bytes, digest: `sha256:${toHex(sha256(bytes))}` });

/**
 * The OCI image that carries a signature: a config whose rootfs names the payload layer (as
 * cosign writes it), and a manifest with the payload as its one layer and the base64 DER
 * signature as that layer's annotation.
 */
export function cosignSignatureImage(
  image: ImageReference,
  payload: Uint8Array,
  derSignature: Uint8Array,
): CosignSignatureImage {
  const p = blob(payload);
  const config = blob(
    new TextEncoder().encode(
      JSON.stringify({
        architecture: "",
        created: "0001-01-01T00:00:00Z",
        history: [{ created: "0001-01-01T00:00:00Z" }],
        os: "",
        rootfs: { type: "layers", diff_ids: [p.digest] },
        config: {},
      }),
    ),
  );
  const manifest = new TextEncoder().encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST_MEDIA_TYPE,
      config: { mediaType: OCI_CONFIG_MEDIA_TYPE, size: config.bytes.byteLength, digest: config.digest },
      layers: [
        {
          mediaType: COSIGN_PAYLOAD_MEDIA_TYPE,
          size: p.bytes.byteLength,
          digest: p.digest,
          annotations: { [COSIGN_SIGNATURE_ANNOTATION]: Buffer.from(derSignature).toString("base64") },
        },
      ],
    }),
  );
  return { config, payload: p, manifest, tag: cosignSignatureTag(image.digest) };
}
