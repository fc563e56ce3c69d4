/**
 * Key type checks, memoized per KeyObject: Node computes `asymmetricKeyDetails` afresh on every
 * access, and verifiers ask on every signature.
 *
 * @module
 */
import type { KeyObject } from "node:crypto";

const curves = new WeakMap<KeyObject, string>();

/** "ec:prime256v1", "rsa:3072", "ed25519", … for allow-list checks. */
export function keyKind(key: KeyObject): string {
  let kind = curves.get(key);
  if (kind === undefined) {
    const d = key.asymmetricKeyDetails;
    const type = key.asymmetricKeyType ?? "unknown";
    kind =
      type === "ec" ? `ec:${d?.namedCurve ?? ""}` : type === "rsa" ? `rsa:${d?.modulusLength ?? 0}` : type;
    curves.set(key, kind);
  }
  return kind;
}

/**
 * Records the kind of a key its creator already knows (a P-256 point it imported, the curve an
 * SPKI names), so that {@link keyKind} need not ask OpenSSL for a fresh key's details.
 */
export function rememberKeyKind(key: KeyObject, kind: string): void {
  curves.set(key, kind);
}
