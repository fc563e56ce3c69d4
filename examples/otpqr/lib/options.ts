/**
 * otpqr's command line: what it is asked to do, checked before anything is touched.
 *
 * @module
 */
import { isAbsolute, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { KeywardError } from "@keyward/attest/errors";

/** What one run does. */
export interface OtpqrOptions {
  readonly account: string;
  readonly host: string;
  readonly port: number;
  readonly format: "svg" | "url";
  /** Absolute path of the file to create. */
  readonly out: string;
  /** Keyward's data directory: its simulated platform's root is trusted (`DIR/sim`). */
  readonly dataDir: string;
  /** The service's MRENCLAVE (hex) the app insists on. */
  readonly serviceMrEnclave: string;
  /** Where `single_run/once` lives. */
  readonly stateDir: string;
}

/** The help text (`otpqr --help`). */
export const HELP = `usage: otpqr --account NAME --server HOST:PORT --format svg|url --out FILE --data-dir DIR
             [--service-mrenclave HEX] [--state-dir DIR]

Receives the secret of one Keyward OTP account, once, and writes its QR code (SVG) or its
otpauth:// key URI to FILE (created new, mode 0600). Runs as an enclave app: the service hands the
secret over only to this measured app, and only once. Nothing secret is printed.

options:
  --account NAME             the OTP account to enroll (the policy grants "otpEnrollment": [NAME])
  --server HOST:PORT         the Keyward service (mutual RA-TLS)
  --format svg|url           an SVG QR code, or the otpauth:// URI as text
  --out FILE                 the file to create (never overwritten)
  --data-dir DIR             Keyward's data directory: trust its simulated platform (DIR/sim)
  --service-mrenclave HEX    the service's MRENCLAVE (default: the simulated service's)
  --state-dir DIR            where the single-run marker lives (default: $XDG_STATE_HOME/keyward/otpqr)
  -h, --help                 show this help

exit status: 0 written, 1 refused (ERR_OTP_ENROLLMENT_USED, ERR_OTP_MARKER_TAMPERED, denied), 2 usage or I/O
`;

function usage(message: string): never {
  throw new KeywardError("ERR_USAGE", `${message} (otpqr --help)`);
}

/**
 * Parses otpqr's arguments; relative paths are the caller's (`PWD`), since the launcher runs the
 * app in its manifest's directory.
 * @throws ERR_USAGE
 */
export function parseOtpqrArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  defaultServiceMrEnclave: string,
): OtpqrOptions | "help" {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        account: { type: "string" },
        server: { type: "string" },
        format: { type: "string" },
        out: { type: "string" },
        "data-dir": { type: "string" },
        "service-mrenclave": { type: "string" },
        "state-dir": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (e) {
    return usage(e instanceof Error ? e.message : String(e));
  }
  if (values.help === true) return "help";
  const need = (name: string): string => {
    const v = values[name];
    if (typeof v !== "string" || v === "") usage(`--${name} is required`);
    return v;
  };
  const account = need("account");
  if (!/^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/.test(account))
    usage("--account must be an OTP account name (1-64 of [A-Za-z0-9_.@-])");
  const server = /^(.+):(\d{1,5})$/.exec(need("server"));
  if (server === null || Number(server[2]) < 1 || Number(server[2]) > 65535)
    usage("--server must be HOST:PORT");
  const format = need("format");
  if (format !== "svg" && format !== "url") usage(`--format must be svg or url, not "${format}"`);
  const base = env.PWD !== undefined && isAbsolute(env.PWD) ? env.PWD : process.cwd();
  const path = (p: string) => resolve(base, p);
  const mr = (values["service-mrenclave"] as string | undefined) ?? defaultServiceMrEnclave;
  if (!/^[0-9a-fA-F]{64}$/.test(mr)) usage("--service-mrenclave must be 64 hex digits");
  const stateHome =
    env.XDG_STATE_HOME !== undefined && isAbsolute(env.XDG_STATE_HOME)
      ? env.XDG_STATE_HOME
      : join(env.HOME ?? base, ".local", "state");
  return {
    account,
    host: (server[1] as string).replace(/^\[|\]$/g, ""),
    port: Number(server[2]),
    format,
    out: path(need("out")),
    dataDir: path(need("data-dir")),
    serviceMrEnclave: mr.toLowerCase(),
    stateDir: path((values["state-dir"] as string | undefined) ?? join(stateHome, "keyward", "otpqr")),
  };
}
