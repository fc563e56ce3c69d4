/**
 * The private channel between an enclave app and its simulated launcher: newline-delimited JSON
 * over an inherited socket (fd 3), one request and one response at a time. The app supplies only
 * report data and key requests; the launcher supplies the measurement.
 *
 * @module
 */

/** The file descriptor the launcher hands the channel on. */
export const CHANNEL_FD = 3;
/** Set in the enclave's environment by the launcher: `fd:3`. */
export const CHANNEL_ENV = "KEYWARD_ENCLAVE_CHANNEL";
/** Upper bound of one message, either way. */
export const MAX_MESSAGE = 64 * 1024;

/** Requests an app may send. */
export type ChannelRequest =
  | { readonly id: number; readonly op: "quote"; readonly reportData: string }
  | { readonly id: number; readonly op: "identity" }
  | {
      readonly id: number;
      readonly op: "sealKey";
      readonly policy: "mrenclave" | "mrsigner";
      readonly keyId: string;
      readonly isvSvn: number;
    };

/** Responses: a result, or an error with a code. */
export type ChannelResponse =
  | { readonly id: number; readonly ok: true; readonly result: Record<string, unknown> }
  | { readonly id: number; readonly ok: false; readonly code: string; readonly message: string };
