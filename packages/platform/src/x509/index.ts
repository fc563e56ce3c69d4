export type { CertificateSpec, CrlSpec, ExtensionSpec, NameSpec } from "./builders.ts";
export { buildCertificate, buildCrl, derName } from "./builders.ts";
export {
  derBitString,
  derBoolean,
  derEnumerated,
  derExplicit,
  derInteger,
  derNull,
  derOctetString,
  derOid,
  derSequence,
  derSet,
  derTime,
  derTlv,
  derUtf8,
} from "./der-writer.ts";
