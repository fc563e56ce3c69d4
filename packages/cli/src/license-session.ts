/**
 * What the `keyward license` commands share: the licensing server's address and CA, the session
 * file (the tokens of a login, written 0600 through a fresh temporary file renamed into place, so a
 * reader never sees half a file and no other user can read it), and the password, which is never
 * taken from argv (a file, $KEYWARD_LICENSE_PASSWORD, or a no-echo prompt).
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { readTextBounded } from "@keyward/platform/io";
import type { LicensingClient, LicensingSession } from "@keyward/server/licensing-client";
import { usageError } from "./args.ts";
import { environment } from "./config.ts";
import { canPrompt, promptLine } from "./prompt.ts";
import type { CommandSpec } from "./specs/types.ts";

/** The client flags' values. */
export interface ClientFlags {
  readonly server?: string | undefined;
  readonly ca?: string | undefined;
  readonly session?: string | undefined;
}

const SESSION = { kind: "document", what: "license session" } as const;

/** The session file's path. */
export function sessionPath(flags: ClientFlags): string {
  return (
    flags.session ??
    environment().KEYWARD_LICENSE_SESSION ??
    join(homedir(), ".keyward", "license-session.json")
  );
}

/** A client of the server the flags name, with the stored session when `withSession`. */
export async function licensingClient(
  flags: ClientFlags,
  spec: CommandSpec,
  withSession: boolean,
): Promise<LicensingClient> {
  const { LicensingClient } = await import("@keyward/server/licensing-client");
  // Files first: an unreadable one is ERR_IO whatever else is wrong.
  const caPem =
    flags.ca === undefined
      ? undefined
      : readTextBounded(flags.ca, { kind: "certificate", what: "licensing CA" });
  const server = flags.server ?? environment().KEYWARD_LICENSE_SERVER;
  if (server === undefined) usageError("--server HOST:PORT is required (or $KEYWARD_LICENSE_SERVER)", spec);
  const m = /^\[?([^\]]+)\]?:(\d{1,5})$/.exec(server);
  if (m === null || Number(m[2]) > 65535) usageError("--server must be HOST:PORT", spec);
  if (caPem === undefined)
    usageError("--ca FILE is required: the licensing server's CA or certificate", spec);
  const session = withSession ? readSession(flags, spec) : undefined;
  return new LicensingClient({ host: m[1] as string, port: Number(m[2]), caPem }, session);
}

function readSession(flags: ClientFlags, spec: CommandSpec): LicensingSession {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readTextBounded(sessionPath(flags), SESSION));
  } catch {
    usageError(`no session in ${sessionPath(flags)}: run keyward license login first`, spec);
  }
  const s = parsed as { accessToken?: unknown; refreshToken?: unknown };
  if (typeof s.accessToken !== "string" || typeof s.refreshToken !== "string")
    usageError(`${sessionPath(flags)} is not a license session: run keyward license login again`, spec);
  return { accessToken: s.accessToken, refreshToken: s.refreshToken };
}

/** Writes the session (0600) atomically. */
export function writeSession(flags: ClientFlags, session: LicensingSession): void {
  const path = sessionPath(flags);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    writeFileSync(tmp, JSON.stringify(session), { mode: 0o600, flag: "wx" });
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** The password: --password-file's first line, $KEYWARD_LICENSE_PASSWORD, or a no-echo prompt. */
export async function readPassword(file: string | undefined, spec: CommandSpec): Promise<string> {
  if (file !== undefined)
    return readTextBounded(file, { kind: "document", what: "password file" }).split(/\r?\n/)[0] ?? "";
  const fromEnv = environment().KEYWARD_LICENSE_PASSWORD;
  if (fromEnv !== undefined) return fromEnv;
  if (!canPrompt())
    usageError("no password: use --password-file, $KEYWARD_LICENSE_PASSWORD or a terminal", spec);
  return promptLine("password: ", { echo: false });
}
