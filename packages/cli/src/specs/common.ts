/**
 * Flags that several commands share, written once.
 *
 * @module
 */
import type { OptionSpec } from "./types.ts";

/** `--data-dir DIR`. */
export const DATA_DIR = {
  "data-dir": {
    type: "string",
    value: "DIR",
    path: "dir",
    help: "Keyward's data directory (default: $KEYWARD_DATA_DIR, $XDG_DATA_HOME/keyward, ~/.local/share/keyward)",
  },
} as const satisfies Record<string, OptionSpec>;

/** `--config FILE`: the service's configuration file (YAML or TOML). */
export const CONFIG = {
  config: {
    type: "string",
    value: "FILE",
    file: "document",
    help: "configuration file, .yaml/.yml or .toml: keys are the flags in camelCase (default: $KEYWARD_CONFIG)",
  },
} as const satisfies Record<string, OptionSpec>;

/** Flags naming where the service's data lives (serve, and admin commands on a local store). */
export const STORE = {
  ...DATA_DIR,
  "database-url": {
    type: "string",
    value: "URL",
    help: "PostgreSQL store (postgres://…); default: SQLite in the data directory",
  },
  "database-url-file": {
    type: "string",
    value: "FILE",
    file: "key",
    readBy: "server",
    help: "a file holding the PostgreSQL URL (e.g. a mounted Secret: keeps the password out of argv)",
  },
  "db-schema": { type: "string", value: "NAME", help: "PostgreSQL schema (default: public)" },
  "master-key-file": {
    type: "string",
    value: "FILE",
    file: "key",
    readBy: "server",
    help: "the master key file (default: DATA_DIR/master.key)",
  },
  "policy-dir": {
    type: "string",
    value: "DIR",
    path: "dir",
    help: "directory of policy files (default: DATA_DIR/policies)",
  },
  simulation: {
    type: "boolean",
    help: "simulation mode: trust the simulated platform of the data directory",
  },
  "pccs-url": {
    type: "string",
    value: "URL",
    help: "PCS or PCCS base URL for collateral (default: Intel's PCS)",
  },
} as const satisfies Record<string, OptionSpec>;

/** Flags of every command that administers a service, remotely or on its local store. */
export const ADMIN = {
  ...STORE,
  admin: {
    type: "string",
    value: "HOST:PORT",
    help: "a running service's Admin listener (default: $KEYWARD_ADMIN_ADDR; without it, the local store)",
  },
  "admin-client": {
    type: "string",
    value: "NAME",
    help: "the operator certificate to use from DATA_DIR/admin/clients (default: admin)",
  },
  otp: {
    type: "string",
    value: "ACCOUNT:CODE",
    help: "a one-time code for the service's step-up (on a terminal, asked for without echo when needed)",
  },
} as const satisfies Record<string, OptionSpec>;

/** Trust and time flags of the DCAP verifying commands. */
export const DCAP_TRUST = {
  at: {
    type: "string",
    value: "ISO-8601",
    help: "verify as of this time, with a zone (default: now), e.g. 2025-06-05T03:45:00Z",
  },
  "trust-sim": {
    type: "boolean",
    help: "also trust the simulation root of the data directory (platform: simulated)",
  },
  "sim-root": {
    type: "string",
    value: "FILE",
    file: "certificate",
    help: "also trust this simulation root certificate (PEM)",
  },
  ...DATA_DIR,
} as const satisfies Record<string, OptionSpec>;
