/**
 * The SIGSTRUCT inside a signed SGX SDK enclave: the `.note.sgxmeta` ELF note. Quirk seen in every
 * real file: the 13-byte note name "sgx_metadata\0" is NOT padded to 4 bytes, so the metadata starts
 * at offset 25; a generic note reader that aligns lands at 28 and reads garbage.
 *
 * @module
 */
import { ByteReader } from "@keyward/attest/bytes";
import { KeywardError } from "@keyward/attest/errors";

const METADATA_MAGIC = 0x86a80294635d0e4cn;
const SIGSTRUCT_OFFSET = 64;

/**
 * The SIGSTRUCT bytes of a `.note.sgxmeta` section's contents.
 * @throws ERR_SIGSTRUCT_MALFORMED, ERR_BYTES_*
 */
export function sigstructFromSgxMetadata(section: Uint8Array): Uint8Array {
  const r = new ByteReader(section, ".note.sgxmeta");
  const nameSize = r.length(r.u32le(), 64, "namesz");
  const descSize = r.length(r.u32le(), 1 << 20, "descsz");
  const type = r.u32le();
  const name = new TextDecoder().decode(r.bytes(nameSize));
  if (name !== "sgx_metadata\0" || type !== 1) {
    throw new KeywardError(
      "ERR_SIGSTRUCT_MALFORMED",
      `.note.sgxmeta: note "${name.replace(/\0/g, "")}" of type ${type} is not SGX metadata`,
    );
  }
  const meta = new ByteReader(r.bytes(descSize), "SGX metadata");
  if (meta.u64le() !== METADATA_MAGIC)
    throw new KeywardError("ERR_SIGSTRUCT_MALFORMED", "SGX metadata: wrong magic");
  meta.u64le(); // version
  meta.u32le(); // size
  meta.skip(SIGSTRUCT_OFFSET - 20);
  return meta.bytes(1808);
}
