/**
 * The simulated platform on disk: its keys (0600, created with O_EXCL), certificates, sealing
 * secret and collateral, and the operations a launcher needs: quote SGX and TDX reports, hand out
 * collateral, derive sealing keys from the platform secret.
 *
 * @module
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fromHex, toHex } from "@keyward/attest/bytes";
import { KeywardError } from "@keyward/attest/errors";
import { toPem } from "@keyward/attest/x509";
import { readFileBounded, readTextBounded } from "../io/read-file.ts";
import { type SimTee, simCollateralJson } from "./collateral.ts";
import { issueSimCertificates, type SimCertificates, type SimKeys } from "./hierarchy.ts";
import {
  buildSgxQuote,
  buildTdxQuote,
  type QuotingKeys,
  type SgxReportInput,
  type TdReportInput,
} from "./quote.ts";

/** A loaded simulated platform. */
export interface SimPlatform {
  readonly dir: string;
  /** The simulation root CA, PEM: what a verifier must be told to trust, explicitly. */
  readonly rootCertificatePem: string;
  /** QuoteCollateralV3 JSON for SGX or TDX quotes of this platform. */
  collateralJson(tee: SimTee): string;
  /** A v3 SGX quote over `report`, signed by the simulated QE. */
  quoteSgx(report: SgxReportInput): Uint8Array;
  /** A v4 (default) or v5 TDX quote over `report`. */
  quoteTdx(report: TdReportInput, version?: 4 | 5): Uint8Array;
  /** The per-platform secret sealing keys are derived from (32 bytes). Never log it. */
  sealingSecret(): Uint8Array;
}

/** Options of {@link initSimPlatform}. */
export interface SimInitOptions {
  /** Creation time: certificates and collateral start here. */
  readonly now: Date;
  /** Collateral (TCB Info, QE Identity, CRLs) lifetime in days; default 30. */
  readonly validityDays?: number;
  /** Replace an existing platform (its keys and sealed data become useless). */
  readonly force?: boolean;
  /** Called before each step (for a progress display): "keys", "certificates", "collateral". */
  readonly onStep?: (step: "keys" | "certificates" | "collateral") => void;
}

const KEY_FILES = ["root", "pck-ca", "pck", "tcb-signing", "attestation"] as const;
const META = "platform.json";
const COLLATERAL = { kind: "collateral", what: "simulated collateral" } as const;

/**
 * Creates a simulated platform in `dir`.
 * @throws ERR_SIM_EXISTS when one is there and `force` is not set
 */
export function initSimPlatform(dir: string, options: SimInitOptions): SimPlatform {
  if (existsSync(join(dir, META))) {
    if (options.force !== true) {
      throw new KeywardError(
        "ERR_SIM_EXISTS",
        `a simulated platform already exists in ${dir} (use --force to replace it)`,
      );
    }
    rmSync(dir, { recursive: true, force: true });
  }
  mkdirSync(join(dir, "keys"), { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  options.onStep?.("keys");
  const keys: SimKeys = {
    root: p256(),
    pckCa: p256(),
    pck: p256(),
    tcbSigning: p256(),
    attestation: p256(),
  };
  const ordered = [keys.root, keys.pckCa, keys.pck, keys.tcbSigning, keys.attestation];
  KEY_FILES.forEach((name, i) => {
    writeSecret(
      join(dir, "keys", `${name}.key`),
      (ordered[i] as KeyObject).export({ type: "pkcs8", format: "pem" }),
    );
  });
  writeSecret(join(dir, "sealing-secret.bin"), randomBytes(32));
  const platformId = randomBytes(16);
  options.onStep?.("certificates");
  const certs = issueSimCertificates(keys, options.now, platformId);
  writeFileSync(join(dir, "root.pem"), toPem(certs.root, "CERTIFICATE"));
  writeFileSync(join(dir, "pck-chain.pem"), chainPem(certs));
  writeFileSync(join(dir, "certificates.json"), JSON.stringify(mapValues(certs, toHex), null, 1));
  const validityDays = options.validityDays ?? 30;
  writeFileSync(
    join(dir, META),
    JSON.stringify(
      {
        kind: "keyward-simulated-platform",
        createdAt: options.now.toISOString(),
        platformId: toHex(platformId),
        validityDays,
      },
      null,
      1,
    ),
  );
  options.onStep?.("collateral");
  writeCollateral(dir, certs, keys, options.now, validityDays);
  return loadSimPlatform(dir);
}

/**
 * Re-signs the collateral and CRLs with new dates, keeping every key and certificate.
 * @throws ERR_SIM_NOT_FOUND
 */
export function refreshSimCollateral(dir: string, now: Date, validityDays?: number): void {
  const { keys, certs, meta } = readPlatform(dir);
  writeCollateral(dir, certs, keys, now, validityDays ?? meta.validityDays);
}

/**
 * Loads the simulated platform in `dir`.
 * @throws ERR_SIM_NOT_FOUND
 */
export function loadSimPlatform(dir: string): SimPlatform {
  const { keys, certs } = readPlatform(dir);
  const quoting: QuotingKeys = { attestation: keys.attestation, pck: keys.pck, pckChainPem: chainPem(certs) };
  const collateral = {
    sgx: readTextBounded(join(dir, "collateral-sgx.json"), COLLATERAL),
    tdx: readTextBounded(join(dir, "collateral-tdx.json"), COLLATERAL),
  };
  return {
    dir,
    rootCertificatePem: toPem(certs.root, "CERTIFICATE"),
    collateralJson: (tee) => collateral[tee],
    quoteSgx: (report) => buildSgxQuote(report, quoting),
    quoteTdx: (report, version) => buildTdxQuote(report, quoting, version ?? 4),
    sealingSecret: () =>
      readFileBounded(join(dir, "sealing-secret.bin"), { kind: "key", what: "sealing secret" }),
  };
}

function readPlatform(dir: string): {
  keys: SimKeys;
  certs: SimCertificates;
  meta: { validityDays: number };
} {
  let meta: { validityDays: number };
  try {
    meta = JSON.parse(readTextBounded(join(dir, META), { kind: "document", what: "simulated platform" }));
  } catch (cause) {
    throw new KeywardError("ERR_SIM_NOT_FOUND", `no simulated platform in ${dir} (run keyward sim init)`, {
      cause,
    });
  }
  const [root, pckCa, pck, tcbSigning, attestation] = KEY_FILES.map((name) =>
    createPrivateKey(
      readTextBounded(join(dir, "keys", `${name}.key`), { kind: "key", what: "simulation key" }),
    ),
  ) as [KeyObject, KeyObject, KeyObject, KeyObject, KeyObject];
  const hex = JSON.parse(
    readTextBounded(join(dir, "certificates.json"), { kind: "certificate", what: "simulation certificates" }),
  );
  const certs: SimCertificates = {
    root: fromHex(hex.root),
    pckCa: fromHex(hex.pckCa),
    pck: fromHex(hex.pck),
    tcbSigning: fromHex(hex.tcbSigning),
  };
  return { keys: { root, pckCa, pck, tcbSigning, attestation }, certs, meta };
}

function writeCollateral(
  dir: string,
  certs: SimCertificates,
  keys: SimKeys,
  now: Date,
  validityDays: number,
): void {
  for (const tee of ["sgx", "tdx"] as const) {
    const path = join(dir, `collateral-${tee}.json`);
    writeFileSync(`${path}.tmp`, simCollateralJson(tee, certs, keys, now, validityDays));
    renameSync(`${path}.tmp`, path);
  }
}

function chainPem(certs: SimCertificates): string {
  return (
    toPem(certs.pck, "CERTIFICATE") + toPem(certs.pckCa, "CERTIFICATE") + toPem(certs.root, "CERTIFICATE")
  );
}

// Secret files: created exclusively (O_EXCL) with mode 0600, so they are never readable by others
// and never silently replace an existing key.
function writeSecret(path: string, data: string | Uint8Array): void {
  writeFileSync(path, data, { flag: "wx", mode: 0o600 });
}

function p256(): KeyObject {
  return generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
}

function mapValues<T, U>(o: { readonly [K in keyof T]: T[K] }, f: (v: T[keyof T]) => U): Record<keyof T, U> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v as T[keyof T])])) as Record<keyof T, U>;
}
