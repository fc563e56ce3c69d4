/**
 * The most bytes Keyward reads from a file of each kind. A file over its limit is refused before a
 * byte of it is read (its size is checked on the opened descriptor), and the read itself stops one
 * byte past the limit, so a file that grows, or lies about its size, cannot make a reader allocate
 * more than its kind allows.
 *
 * The figures are a generous multiple of the largest real input seen (docs/security.md, "Reading
 * input"): a DCAP quote with its PCK chain is under 10 KiB, Intel's collateral for one FMSPC under
 * 100 KiB, a SIGSTRUCT 1,808 bytes.
 *
 * @module
 */

const KiB = 1024;
const MiB = 1024 * KiB;

/** The limit, in bytes, of each kind of file. */
export const INPUT_LIMITS = {
  /** DCAP quotes, RA-TLS certificates, SIGSTRUCTs, TPM quotes, signatures, AK publics, PCR values. */
  evidence: 1 * MiB,
  /** DCAP collateral JSON (TCB Info, QE Identity, CRLs and their issuer chains). */
  collateral: 8 * MiB,
  /** X.509 certificates and chains in PEM or DER, including trust roots. */
  certificate: 1 * MiB,
  /** Reference-value policies (JSON or YAML). */
  policy: 1 * MiB,
  /** Enclave manifests (TOML). */
  manifest: 1 * MiB,
  /** Private and public keys, master-key files, nonces. */
  key: 64 * KiB,
  /** A secret's value, as the Admin listener accepts it (1 MiB). */
  secretValue: 1 * MiB,
  /** JSON documents a service or platform keeps for itself (state, `file:` sources). */
  document: 4 * MiB,
  /** Data signed or verified with an attested key (`keyward signer`: readings, payloads); COSE decoding holds 1 MiB. */
  signedData: 1 * MiB,
  /** A trusted file being measured (streamed: never held in memory whole). */
  trustedFile: 1024 * MiB,
} as const;

/** A kind of input file. */
export type InputKind = keyof typeof INPUT_LIMITS;
