/**
 * X.501 Names (RFC 5280 §4.1.2.4): their structure checked, their display text, their attributes.
 * Names are compared by their DER everywhere; the text is for people and for the CN checks Intel's
 * QVL makes.
 *
 * @module
 */
import { bytesEqual } from "../bytes/equal.ts";
import { DerReader, TAG } from "./der.ts";
import { NAME_ATTRIBUTES } from "./oids.ts";

/** Display text is decoded leniently: names are compared by their DER, never by this text. */
export const utf8 = new TextDecoder("utf-8", { fatal: false });

/** A display form of a Name's DER content (RDNs in order, "CN=…, O=…"). */
export function nameToString(content: Uint8Array): string {
  const rdns = new DerReader(content, "X.509 Name", 2);
  const parts: string[] = [];
  while (!rdns.done) {
    const set = rdns.enter(TAG.SET, "RelativeDistinguishedName");
    while (!set.done) {
      const atv = set.enter(TAG.SEQUENCE, "AttributeTypeAndValue");
      const oid = atv.oid("type");
      const value = atv.any();
      atv.end();
      parts.push(`${NAME_ATTRIBUTES[oid] ?? oid}=${utf8.decode(value.content)}`);
    }
  }
  return parts.join(", ");
}

/**
 * The values of attribute `oid` (e.g. "2.5.4.3", commonName) in a Name (its whole DER, as
 * `subjectDer` and `issuerDer` hold it), in order.
 * @throws ERR_DER_MALFORMED
 */
export function nameAttributes(name: Uint8Array, oid: string): string[] {
  const outer = new DerReader(name, "X.509 Name", 1);
  const rdns = outer.enter(TAG.SEQUENCE, "Name");
  outer.end();
  const values: string[] = [];
  while (!rdns.done) {
    const set = rdns.enter(TAG.SET, "RelativeDistinguishedName");
    while (!set.done) {
      const atv = set.enter(TAG.SEQUENCE, "AttributeTypeAndValue");
      const type = atv.oid("type");
      const value = atv.any();
      atv.end();
      if (type === oid) values.push(utf8.decode(value.content));
    }
  }
  return values;
}

/**
 * Checks the structure of a Name's DER content (RDNs of type-value pairs, OIDs minimal) without
 * making its display text; returns the values of the attribute whose OID content is `keep`.
 * @throws ERR_DER_MALFORMED
 */
export function checkName(content: Uint8Array, keep?: Uint8Array): Uint8Array[] {
  const kept: Uint8Array[] = [];
  const rdns = new DerReader(content, "X.509 Name", 2);
  while (!rdns.done) {
    const set = rdns.open(TAG.SET, "RelativeDistinguishedName");
    while (!rdns.at(set)) {
      const atv = rdns.open(TAG.SEQUENCE, "AttributeTypeAndValue");
      const type = rdns.oidBytes("type");
      const value = rdns.any();
      rdns.close(atv, "AttributeTypeAndValue");
      if (keep !== undefined && bytesEqual(type, keep)) kept.push(value.content);
    }
    rdns.close(set, "RelativeDistinguishedName");
  }
  return kept;
}

/** 2.5.4.3 (commonName), DER content bytes. */
export const COMMON_NAME = Uint8Array.of(0x55, 0x04, 0x03);

/** A Name's content from its whole DER (as `subjectDer` and `issuerDer` hold it). */
export function contentOf(name: Uint8Array): Uint8Array {
  const r = new DerReader(name, "X.509 Name", 1);
  const content = r.element(TAG.SEQUENCE, "Name").content;
  r.end();
  return content;
}
