/**
 * The few calls of the OCI distribution API (distribution-spec v1.1) that attaching a cosign
 * signature needs: fetch a manifest by digest (and check its bytes hash to that digest), push a
 * blob (POST then PUT, the monolithic upload of §"Pushing a blob monolithically"), and push a
 * manifest under a tag. Anonymous access only; `plainHttp` for a registry on loopback without TLS.
 *
 * @module
 */
import { toHex } from "@keyward/attest/bytes";
import { sha256 } from "@keyward/attest/crypto";
import { KeywardError } from "@keyward/attest/errors";
import type { CosignSignatureImage, ImageReference, OciBlob } from "@keyward/attest/signer";
import { OCI_MANIFEST_MEDIA_TYPE } from "@keyward/attest/signer";

const MANIFEST_TYPES = [
  OCI_MANIFEST_MEDIA_TYPE,
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
].join(", ");
const MAX_MANIFEST = 4 * 1024 * 1024;
const TIMEOUT_MS = 30_000;

/** A registry client for one repository. */
export interface RepositoryClient {
  /** The manifest `digest` names, its bytes checked against the digest. */
  manifest(digest: string): Promise<Uint8Array>;
  pushBlob(blob: OciBlob): Promise<void>;
  /** Pushes `manifest` under `tag`; returns its digest. */
  pushManifest(tag: string, manifest: Uint8Array): Promise<string>;
}

/** A client of `image`'s repository. */
export function repositoryClient(
  image: ImageReference,
  options: { readonly plainHttp?: boolean } = {},
): RepositoryClient {
  const base = `${options.plainHttp === true ? "http" : "https"}://${image.registry}/v2/${image.repository}`;
  const call = async (method: string, url: string, init: RequestInit = {}): Promise<Response> => {
    let r: Response;
    try {
      r = await fetch(url, { method, redirect: "follow", signal: AbortSignal.timeout(TIMEOUT_MS), ...init });
    } catch (cause) {
      throw new KeywardError("ERR_SIGNER_REGISTRY_FAILED", `${method} ${url}: ${(cause as Error).message}`, {
        cause,
      });
    }
    return r;
  };
  const fail = async (r: Response, what: string): Promise<never> => {
    const body = (await r.text().catch(() => "")).slice(0, 300);
    throw new KeywardError("ERR_SIGNER_REGISTRY_FAILED", `${what}: HTTP ${r.status} ${body}`);
  };
  return {
    async manifest(digest) {
      const url = `${base}/manifests/${digest}`;
      const r = await call("GET", url, { headers: { accept: MANIFEST_TYPES } });
      if (r.status !== 200) return fail(r, `GET ${url}`);
      const bytes = new Uint8Array(await r.arrayBuffer());
      if (bytes.byteLength > MAX_MANIFEST)
        throw new KeywardError("ERR_SIGNER_REGISTRY_FAILED", `${url}: manifest too large`);
      // A registry could serve other bytes: only the digest the signature names counts.
      if (`sha256:${toHex(sha256(bytes))}` !== digest)
        throw new KeywardError(
          "ERR_SIGNER_REGISTRY_FAILED",
          `${url}: the manifest served does not hash to ${digest}`,
        );
      return bytes;
    },
    async pushBlob(blob) {
      const head = await call("HEAD", `${base}/blobs/${blob.digest}`);
      if (head.status === 200) return;
      const start = await call("POST", `${base}/blobs/uploads/`);
      if (start.status !== 202) return fail(start, "starting a blob upload");
      const location = start.headers.get("location");
      if (location === null) throw new KeywardError("ERR_SIGNER_REGISTRY_FAILED", "blob upload: no Location");
      const url = new URL(location, base);
      url.searchParams.set("digest", blob.digest);
      const put = await call("PUT", url.toString(), {
        headers: {
          "content-type": "application/octet-stream",
          "content-length": String(blob.bytes.byteLength),
        },
        body: Buffer.from(blob.bytes),
      });
      if (put.status !== 201) return fail(put, `uploading ${blob.digest}`);
    },
    async pushManifest(tag, manifest) {
      const url = `${base}/manifests/${tag}`;
      const r = await call("PUT", url, {
        headers: { "content-type": OCI_MANIFEST_MEDIA_TYPE },
        body: Buffer.from(manifest),
      });
      if (r.status !== 201) return fail(r, `PUT ${url}`);
      return r.headers.get("docker-content-digest") ?? `sha256:${toHex(sha256(manifest))}`;
    },
  };
}

/** Pushes a signature image: both blobs, then the manifest under its tag. Returns the manifest's digest. */
export async function pushSignatureImage(
  client: RepositoryClient,
  sig: CosignSignatureImage,
): Promise<string> {
  await client.pushBlob(sig.config);
  await client.pushBlob(sig.payload);
  return client.pushManifest(sig.tag, sig.manifest);
}
