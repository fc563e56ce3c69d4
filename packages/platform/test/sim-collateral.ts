/**
 * Test helper: the simulated platform's collateral with TCB Info or QE Identity edited, then
 * re-serialized and re-signed with the simulation's own TCB-signing key (`keys/tcb-signing.key`),
 * exactly as `keyward sim init` signs them. The result verifies under the simulation root, so a
 * test reaches the TCB grading it wants to exercise (a Revoked level, a relaunch case) through
 * every signature check, not around them.
 */
import { createPrivateKey, sign } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { SimTee } from "@keyward/platform/sim";

/** A parsed TCB Info or QE Identity body; the edit returns the body to sign. */
// biome-ignore lint/suspicious/noExplicitAny: collateral bodies are free-form JSON edited by tests
export type BodyEdit = (body: any) => unknown;

/** QuoteCollateralV3 JSON text of the platform in `simDir` with `edits` applied and re-signed. */
export function resignedSimCollateral(
  simDir: string,
  tee: SimTee,
  edits: { readonly tcbInfo?: BodyEdit; readonly qeIdentity?: BodyEdit },
): string {
  const doc = JSON.parse(readFileSync(join(simDir, `collateral-${tee}.json`), "utf8"));
  const key = createPrivateKey(readFileSync(join(simDir, "keys", "tcb-signing.key"), "utf8"));
  const resign = (field: "tcb_info" | "qe_identity", edit: BodyEdit | undefined) => {
    if (edit === undefined) return;
    const text = JSON.stringify(edit(JSON.parse(doc[field])));
    doc[field] = text;
    doc[`${field}_signature`] = Buffer.from(
      sign("sha256", Buffer.from(text), { key, dsaEncoding: "ieee-p1363" }),
    ).toString("hex");
  };
  resign("tcb_info", edits.tcbInfo);
  resign("qe_identity", edits.qeIdentity);
  return JSON.stringify(doc, null, 1);
}
