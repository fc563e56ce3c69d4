/**
 * Reading the CLI's inputs: every file through the bounded reader of `@keyward/platform/io`
 * (regular files only, size-limited by kind, never blocking; any failure is ERR_IO, exit 2),
 * then decoded. A file that is there but malformed is the evidence's problem (exit 1), not a usage error.
 *
 * @module
 */
import { join } from "node:path";
import type { Policy } from "@keyward/attest/appraisal";
import {
  type DcapCollateral,
  intelTrustAnchor,
  parseCollateralJson,
  type TrustAnchor,
} from "@keyward/attest/dcap";
import { KeywardError } from "@keyward/attest/errors";
import { type Certificate, parseCertificate, parsePemCertificates } from "@keyward/attest/x509";
import { readFileBounded, readTextBounded } from "@keyward/platform/io";
import { dataDir } from "./config.ts";
import { withProgress } from "./progress.ts";

/** A DCAP quote's bytes. @throws ERR_IO */
export function readQuote(path: string): Uint8Array {
  return readFileBounded(path, { kind: "evidence", what: "quote" });
}

/** Collateral JSON from a file. @throws ERR_IO, ERR_DCAP_COLLATERAL_MALFORMED */
export function readCollateral(path: string): DcapCollateral {
  return parseCollateralJson(readTextBounded(path, { kind: "collateral", what: "collateral" }));
}

/** Collateral for `quote` from a PCS or PCCS (progress shown on a terminal). */
export async function fetchCollateral(baseUrl: string, quote: Uint8Array): Promise<DcapCollateral> {
  let host: string;
  try {
    const url = new URL(baseUrl);
    if (url.protocol !== "https:" && url.protocol !== "http:") throw new Error("not http(s)");
    host = url.host;
  } catch {
    throw new KeywardError("ERR_USAGE", `--pccs ${baseUrl}: not an http(s) URL`);
  }
  const { collateralRequestFor, createCollateralProvider } = await import("@keyward/channels/collateral");
  return withProgress(`fetching collateral from ${host}`, () =>
    createCollateralProvider({ baseUrl }).get(collateralRequestFor(quote)),
  );
}

/**
 * A policy file (JSON), read as the service reads it: its appraisal rules, and its grants (secrets,
 * keys, …) validated by the service's features, so a service policy verifies evidence here too.
 * @throws ERR_IO, ERR_POLICY_INVALID
 */
export async function readPolicy(path: string): Promise<Policy> {
  const text = readTextBounded(path, { kind: "policy", what: "policy" });
  const { parseServicePolicy } = await import("@keyward/server/policy");
  return parseServicePolicy(text, path);
}

/** A certificate from PEM or DER. @throws ERR_IO, ERR_X509_* */
export function readCertificate(path: string): Certificate {
  const bytes = readFileBounded(path, { kind: "certificate", what: "certificate" });
  const head = new TextDecoder().decode(bytes.subarray(0, 40));
  if (head.includes("-----BEGIN")) {
    const [cert] = parsePemCertificates(new TextDecoder().decode(bytes), 1);
    if (cert !== undefined) return cert;
  }
  return parseCertificate(bytes);
}

/** Intel's root always; the simulation root only when asked for explicitly. @throws ERR_IO */
export function trustAnchors(
  trustSim: boolean,
  simRoot: string | undefined,
  dir: string | undefined,
): TrustAnchor[] {
  const anchors = [intelTrustAnchor()];
  if (trustSim || simRoot !== undefined) {
    const path = simRoot ?? join(dataDir(dir), "sim", "root.pem");
    const [certificate] = parsePemCertificates(
      readTextBounded(path, { kind: "certificate", what: "simulation root" }),
      1,
    );
    if (certificate === undefined)
      throw new KeywardError("ERR_IO", `simulation root ${path}: no certificate`);
    anchors.push({ certificate, platform: "simulated" });
  }
  return anchors;
}

/** An ISO-8601 time with a zone. @throws ERR_USAGE */
export function parseTime(s: string): Date {
  const d = new Date(s);
  if (
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(s) ||
    Number.isNaN(d.getTime())
  ) {
    throw new KeywardError(
      "ERR_USAGE",
      `--at ${s}: not an ISO-8601 time with a zone (e.g. 2025-07-01T00:00:00Z)`,
    );
  }
  return d;
}
