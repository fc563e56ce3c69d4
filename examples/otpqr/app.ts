/**
 * otpqr, the confidential QR-code generator: runs once, in an enclave, and turns one Keyward OTP
 * account's secret into a QR code (SVG) or an otpauth:// key URI in a file only its owner reads.
 *
 * Order, each step before the next can happen:
 * 1. the arguments are checked; an existing single-run marker is authenticated
 *    (ERR_OTP_MARKER_TAMPERED) and, when genuine, ends the run (ERR_OTP_ENROLLMENT_USED);
 * 2. the output file is created new (O_EXCL, 0600): an existing one is refused, the ticket unspent;
 * 3. the marker is created (O_EXCL) and made durable, before anything is written;
 * 4. the service (mutual RA-TLS) hands the secret over once;
 * 5. the key URI, or its QR code as SVG (`qrcode`), goes into the file, fsync'd.
 * If step 4 fails for a reason other than "used already" (unreachable, not granted), the marker and
 * the empty file are removed so the operator can fix the cause and run it again; the service's
 * ticket is what makes "once" hold (docs/otp.md).
 *
 * Never printed: the secret, the URI, the SVG. Printed: where the file is and how to remove it.
 * The QR code is made here, never by a chart service (that would send the secret away).
 */
import { createHash } from "node:crypto";
import { unlinkSync } from "node:fs";
import { join } from "node:path";
import { KeywardError } from "@keyward/attest/errors";
import { openAttester } from "@keyward/platform/enclave";
import QRCode from "qrcode";
import { enroll } from "./lib/enroll.ts";
import { isUniversal, keyUri } from "./lib/key-uri.ts";
import { createMarker, markerPath, readMarker } from "./lib/marker.ts";
import { HELP, parseOtpqrArgs } from "./lib/options.ts";
import { createOutput } from "./lib/output.ts";

// The simulated service's MRENCLAVE: SHA-256("keyward-service") (the service's simulation mode).
const SIM_SERVICE_MRENCLAVE = createHash("sha256").update("keyward-service").digest("hex");

async function main(): Promise<number> {
  const o = parseOtpqrArgs(process.argv.slice(2), process.env, SIM_SERVICE_MRENCLAVE);
  if (o === "help") {
    process.stdout.write(HELP);
    return 0;
  }
  const attester = openAttester();
  const marker = markerPath(o.stateDir);
  try {
    const ran = await readMarker(attester, marker);
    throw new KeywardError(
      "ERR_OTP_ENROLLMENT_USED",
      `this otpqr ran already (account ${ran.account}, ${ran.createdAt}): the secret is handed over once; re-enrollment needs an administrator with a current code`,
    );
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  const out = createOutput(o.out);
  let enrolled: Awaited<ReturnType<typeof enroll>>;
  try {
    await createMarker(attester, marker, {
      account: o.account,
      server: `${o.host}:${o.port}`,
      createdAt: new Date().toISOString(),
    });
  } catch (e) {
    out.discard();
    throw e;
  }
  try {
    enrolled = await enroll({
      attester,
      host: o.host,
      port: o.port,
      simDir: join(o.dataDir, "sim"),
      serviceMrEnclave: o.serviceMrEnclave,
      account: o.account,
    });
  } catch (e) {
    out.discard();
    // Kept when the service says the ticket is spent: this run did count as the one run.
    if (!(e instanceof KeywardError && e.code === "ERR_OTP_ENROLLMENT_USED")) unlinkSync(marker);
    throw e;
  }
  try {
    const uri = keyUri(enrolled);
    const text =
      o.format === "url"
        ? `${uri}\n`
        : await QRCode.toString(uri, { type: "svg", errorCorrectionLevel: "M", margin: 4 });
    out.commit(text);
  } finally {
    enrolled.secret.fill(0);
  }
  if (!isUniversal(enrolled))
    process.stderr.write(
      `otpqr: warning: ${enrolled.algorithm}, ${enrolled.digits} digits, ${enrolled.period} s: Google Authenticator (Android), Microsoft Authenticator and Authy ignore these and would show wrong codes\n`,
    );
  process.stdout.write(
    `otpqr: wrote the ${o.format === "svg" ? "QR code (SVG)" : "key URI"} of OTP account ${enrolled.account} to ${o.out} (mode 0600).\n` +
      "Add it to an authenticator app, check one code with  keyward otp verify, then remove it:\n" +
      `  shred -n 3 -z -u ${o.out}\n`,
  );
  return 0;
}

main().then(
  (status) => process.exit(status),
  (e: unknown) => {
    const k = e instanceof KeywardError ? e : undefined;
    const code = k?.code ?? "ERR_INTERNAL";
    process.stderr.write(`otpqr: ${code}: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(code === "ERR_USAGE" || code === "ERR_IO" ? 2 : code === "ERR_INTERNAL" ? 70 : 1);
  },
);
