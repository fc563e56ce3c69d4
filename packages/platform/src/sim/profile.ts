/**
 * The fixed facts of the simulated platform: names, FMSPC, SVNs, the simulated QE's identity.
 * Every name says "Simulat…" and the FMSPC spells "KWSIM", so simulated evidence is never
 * mistaken for hardware evidence by a person reading it either.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { NameSpec } from "../x509/builders.ts";

const ORG: readonly [string, string] = ["O", "Keyward Simulation (not a hardware root)"];

export const ROOT_NAME: NameSpec = [["CN", "Keyward Simulation Root CA"], ORG];
export const PCK_CA_NAME: NameSpec = [["CN", "Keyward Simulated PCK Platform CA"], ORG];
export const PCK_NAME: NameSpec = [["CN", "Keyward Simulated SGX PCK Certificate"], ORG];
export const TCB_SIGNING_NAME: NameSpec = [["CN", "Keyward Simulated SGX TCB Signing"], ORG];

/** "KWSIM\0": a value no Intel platform has. */
export const SIM_FMSPC: Uint8Array = Uint8Array.of(0x4b, 0x57, 0x53, 0x49, 0x4d, 0x00);
export const SIM_PCE_ID: Uint8Array = Uint8Array.of(0x00, 0x00);
export const SIM_PCE_SVN = 13;
/** SGX TCB component SVNs of the simulated CPU (CPUSVN is the same 16 bytes). */
export const SIM_SGX_COMPONENTS: readonly number[] = [5, 5, 2, 2, 3, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0];
/** TEE_TCB_SVN of the simulated TDX module: ISVSVN 5, major version 1, then the SEAM components. */
export const SIM_TEE_TCB_SVN: readonly number[] = [5, 1, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

/** The simulated QE: its signer, product IDs (QE 1, TD_QE 2), SVN and attributes. */
export const SIM_QE = {
  mrSigner: new Uint8Array(createHash("sha256").update("Keyward simulated quoting enclave signer").digest()),
  isvProdIdSgx: 1,
  isvProdIdTdx: 2,
  isvSvn: 8,
  // INIT | MODE64BIT | PROVISIONKEY; QE Identity's mask FBFF… keeps 0x11 of it.
  attributes: Uint8Array.of(0x15, 0, 0, 0, 0, 0, 0, 0, 0xe7, 0, 0, 0, 0, 0, 0, 0),
  identityAttributes: "11000000000000000000000000000000",
  identityAttributesMask: "FBFFFFFFFFFFFFFF0000000000000000",
} as const;

/** Intel's QE vendor ID, as real quotes carry it: verifiers accept no other. */
export const QE_VENDOR_ID: Uint8Array = Uint8Array.from(
  Buffer.from("939a7233f79c4ca9940a0db3957f0607", "hex"),
);
