/**
 * cosign's format: image references by digest only, the Simple Signing payload byte for byte as
 * cosign writes it, the signature tag, the signature image's manifest, and payload checks.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { isKeywardError } from "../errors/keyward-error.ts";
import {
  COSIGN_PAYLOAD_MEDIA_TYPE,
  COSIGN_SIGNATURE_ANNOTATION,
  checkCosignPayload,
  cosignPayload,
  cosignSignatureImage,
  cosignSignatureTag,
  parseImageReference,
} from "./cosign.ts";

const D = `sha256:${"ab".repeat(32)}`;

describe("cosign format", () => {
  it("parses REGISTRY/REPO@sha256:HEX and refuses tags, upper-case names and short digests", () => {
    assert.deepEqual(parseImageReference(`127.0.0.1:5000/demo/app@${D}`), {
      registry: "127.0.0.1:5000",
      repository: "demo/app",
      digest: D,
    });
    for (const bad of [
      "registry.example/app:latest",
      `registry.example/App@${D}`,
      `registry.example/app@sha256:${"ab".repeat(31)}`,
      `app@${D}`,
      `registry.example/app@sha512:${"ab".repeat(64)}`,
      `registry.example//app@${D}`,
    ])
      assert.throws(() => parseImageReference(bad), { code: "ERR_INPUT_INVALID" }, bad);
  });
  it("writes cosign's Simple Signing payload exactly, and the sha256-<hex>.sig tag", () => {
    const image = parseImageReference(`registry.example/demo/app@${D}`);
    assert.equal(
      new TextDecoder().decode(cosignPayload(image)),
      `{"critical":{"identity":{"docker-reference":"registry.example/demo/app"},"image":{"docker-manifest-digest":"${D}"},"type":"cosign container image signature"},"optional":null}`,
    );
    assert.equal(cosignSignatureTag(D), `sha256-${"ab".repeat(32)}.sig`);
  });
  it("builds the signature image: one payload layer with the signature annotation, a config naming it", () => {
    const image = parseImageReference(`registry.example/demo/app@${D}`);
    const sig = cosignSignatureImage(image, cosignPayload(image), Uint8Array.of(0x30, 1, 2));
    const m = JSON.parse(new TextDecoder().decode(sig.manifest));
    assert.equal(m.layers[0].mediaType, COSIGN_PAYLOAD_MEDIA_TYPE);
    assert.equal(m.layers[0].digest, sig.payload.digest);
    assert.equal(m.layers[0].annotations[COSIGN_SIGNATURE_ANNOTATION], "MAEC");
    assert.equal(m.config.digest, sig.config.digest);
    assert.deepEqual(JSON.parse(new TextDecoder().decode(sig.config.bytes)).rootfs.diff_ids, [
      sig.payload.digest,
    ]);
  });
  it("checks a payload names the image: another digest or repository is refused", () => {
    const image = parseImageReference(`registry.example/demo/app@${D}`);
    checkCosignPayload(cosignPayload(image), image);
    const other = parseImageReference(`registry.example/demo/app@sha256:${"cd".repeat(32)}`);
    assert.throws(() => checkCosignPayload(cosignPayload(other), image), {
      code: "ERR_SIGNER_SIGNATURE_INVALID",
    });
    const otherRepo = parseImageReference(`registry.example/demo/evil@${D}`);
    assert.throws(() => checkCosignPayload(cosignPayload(otherRepo), image), {
      code: "ERR_SIGNER_SIGNATURE_INVALID",
    });
    for (const bad of ["", "{}", '{"critical":{"type":"x"}}', "\xff"])
      assert.throws(() => checkCosignPayload(new TextEncoder().encode(bad), image), {
        code: "ERR_SIGNER_SIGNATURE_MALFORMED",
      });
  });
  it("never throws anything but its errors on arbitrary references and payloads (fast-check)", () => {
    const image = parseImageReference(`registry.example/demo/app@${D}`);
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.uint8Array({ maxLength: 300 }), (ref, payload) => {
        for (const f of [() => parseImageReference(ref), () => checkCosignPayload(payload, image)]) {
          try {
            f();
          } catch (e) {
            assert.ok(isKeywardError(e), String(e));
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
