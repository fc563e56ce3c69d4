/**
 * The enclave manifest: a Gramine-like TOML subset that says what runs and what it may read.
 *
 * ```toml
 * [loader]
 * entrypoint = "app.ts"                  # a trusted file
 * argv = ["--mode", "hello"]            # fixed arguments (measured); more may follow `--` at launch
 * env.KEYWARD_SERVER = { passthrough = true }   # passed through from the launcher's environment
 *
 * [sgx]
 * trusted_files = ["app.ts", "lib/*.ts"] # paths or globs, relative to the manifest
 * isvprodid = 1
 * isvsvn = 2
 * debug = false
 * signer = "signer.pub.pem"              # the signer's PUBLIC key: MRSIGNER = SHA-256 of it
 * ```
 *
 * @module
 */
import { globSync } from "node:fs";
import { dirname, isAbsolute, join, normalize, relative, resolve } from "node:path";
import { KeywardError } from "@keyward/attest/errors";
import { parse as parseToml } from "smol-toml";
import { readTextBounded } from "../io/read-file.ts";

/** A validated manifest, with every path resolved. */
export interface EnclaveManifest {
  readonly path: string;
  readonly dir: string;
  /** The entrypoint, relative to `dir`. */
  readonly entrypoint: string;
  readonly argv: readonly string[];
  /** Names of environment variables passed through (values are not measured). */
  readonly envPassthrough: readonly string[];
  /** Trusted files, relative to `dir`, sorted, unique. */
  readonly trustedFiles: readonly string[];
  readonly isvProdId: number;
  readonly isvSvn: number;
  readonly debug: boolean;
  /** The signer's public key file, absolute. */
  readonly signer: string;
}

const MAX_FILES = 4096;

/**
 * Reads and validates a manifest; every problem is reported at once.
 * @throws ERR_MANIFEST_INVALID, ERR_IO
 */
export function loadManifest(path: string): EnclaveManifest {
  const text = readTextBounded(path, { kind: "manifest", what: "manifest" });
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (cause) {
    throw new KeywardError(
      "ERR_MANIFEST_INVALID",
      `manifest ${path}: not valid TOML (${(cause as Error).message.split("\n")[0]})`,
      { cause },
    );
  }
  const dir = dirname(resolve(path));
  const problems: string[] = [];
  const loader = table(doc.loader, "loader", problems);
  const sgx = table(doc.sgx, "sgx", problems);
  for (const key of Object.keys(doc))
    if (key !== "loader" && key !== "sgx") problems.push(`${key}: unknown section`);
  for (const key of Object.keys(loader))
    if (!["entrypoint", "argv", "env"].includes(key)) problems.push(`loader.${key}: unknown key`);
  for (const key of Object.keys(sgx)) {
    if (!["trusted_files", "isvprodid", "isvsvn", "debug", "signer"].includes(key))
      problems.push(`sgx.${key}: unknown key`);
  }
  const entrypoint = inside(
    dir,
    str(loader.entrypoint, "loader.entrypoint", problems),
    "loader.entrypoint",
    problems,
  );
  const argv = stringList(loader.argv, "loader.argv", problems);
  const env = table(loader.env, "loader.env", problems);
  const envPassthrough = Object.entries(env)
    .filter(([name, spec]) => {
      const ok =
        typeof spec === "object" && spec !== null && (spec as { passthrough?: unknown }).passthrough === true;
      if (!ok) problems.push(`loader.env.${name}: only { passthrough = true } is supported`);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) problems.push(`loader.env.${name}: not a variable name`);
      return ok;
    })
    .map(([name]) => name)
    .sort();
  const patterns: unknown[] = Array.isArray(sgx.trusted_files) ? sgx.trusted_files : [];
  if (!Array.isArray(sgx.trusted_files)) problems.push("sgx.trusted_files: a list of paths or globs");
  const files = new Set<string>();
  for (const [i, p] of patterns.entries()) {
    if (typeof p !== "string") {
      problems.push(`sgx.trusted_files[${i}]: a string`);
      continue;
    }
    const pattern = p.startsWith("file:") ? p.slice(5) : p;
    const matches = globSync(pattern, { cwd: dir }).map((m) =>
      inside(dir, m, `sgx.trusted_files[${i}]`, problems),
    );
    if (matches.length === 0) problems.push(`sgx.trusted_files[${i}]: "${pattern}" matches no file`);
    for (const m of matches) files.add(m);
  }
  if (files.size > MAX_FILES) problems.push(`sgx.trusted_files: more than ${MAX_FILES} files`);
  if (entrypoint !== "" && !files.has(entrypoint))
    problems.push("loader.entrypoint: must be one of sgx.trusted_files");
  const isvProdId = int(sgx.isvprodid ?? 0, "sgx.isvprodid", problems);
  const isvSvn = int(sgx.isvsvn ?? 0, "sgx.isvsvn", problems);
  const debug = sgx.debug === true;
  if (sgx.debug !== undefined && typeof sgx.debug !== "boolean") problems.push("sgx.debug: true or false");
  const signerRel = str(sgx.signer, "sgx.signer", problems);
  if (problems.length > 0) {
    throw new KeywardError("ERR_MANIFEST_INVALID", `manifest ${path}: ${problems.join("; ")}`, {
      detail: { problems },
    });
  }
  return {
    path: resolve(path),
    dir,
    entrypoint,
    argv,
    envPassthrough,
    trustedFiles: [...files].sort(),
    isvProdId,
    isvSvn,
    debug,
    signer: isAbsolute(signerRel) ? signerRel : join(dir, signerRel),
  };
}

function stringList(v: unknown, name: string, problems: string[]): string[] {
  if (v === undefined) return [];
  if (Array.isArray(v) && v.every((a) => typeof a === "string")) return v;
  problems.push(`${name}: a list of strings`);
  return [];
}

function table(v: unknown, name: string, problems: string[]): Record<string, unknown> {
  if (v === undefined) return {};
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    problems.push(`${name}: a table`);
    return {};
  }
  return v as Record<string, unknown>;
}

function str(v: unknown, name: string, problems: string[]): string {
  if (typeof v !== "string" || v.length === 0) {
    problems.push(`${name}: a non-empty string`);
    return "";
  }
  return v.startsWith("file:") ? v.slice(5) : v;
}

function int(v: unknown, name: string, problems: string[]): number {
  if (typeof v === "bigint" && v >= 0n && v <= 0xffffn) return Number(v);
  if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 0xffff) return v;
  problems.push(`${name}: an integer 0..65535`);
  return 0;
}

// Trusted files live under the manifest's directory: no absolute paths, no "..".
function inside(dir: string, p: string, name: string, problems: string[]): string {
  if (p === "") return "";
  const rel = normalize(relative(dir, resolve(dir, p)));
  if (rel.startsWith("..") || isAbsolute(rel)) {
    problems.push(`${name}: "${p}" is outside the manifest's directory`);
    return "";
  }
  return rel.split("\\").join("/");
}
