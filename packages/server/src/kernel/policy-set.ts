/**
 * Policies from a directory (`*.json`, `*.yaml`, `*.yml`; one policy or a list per file),
 * hot-reloaded: on any change the whole directory is re-read, and the new set replaces the old one
 * only when every file parses — otherwise the old set stays and the error names the file and problem.
 *
 * @module
 */
import { existsSync, readdirSync, watch } from "node:fs";
import { join } from "node:path";
import { KeywardError } from "@keyward/attest/errors";
import { readTextBounded } from "@keyward/platform/io";
import type { Store, StoredPolicy } from "../store/contract.ts";
import type { PolicyReader, ServicePolicy } from "./grants.ts";
import { parsePolicyText } from "./policy-text.ts";

/** A policy in force and where it came from: `file:<name>` or `store` (with its version). */
export interface PolicyEntry {
  readonly policy: ServicePolicy;
  readonly source: string;
  readonly version: number;
}

/** Reads every policy file of `dir` in name order; throws naming the file and the problem. */
export function loadPolicyDir(dir: string, reader: PolicyReader): ServicePolicy[] {
  return loadPolicyEntries(dir, reader).map((e) => e.policy);
}

/** {@link loadPolicyDir} with each policy's file. */
export function loadPolicyEntries(dir: string, reader: PolicyReader): PolicyEntry[] {
  if (!existsSync(dir)) return [];
  const out: PolicyEntry[] = [];
  const ids = new Map<string, string>();
  for (const name of readdirSync(dir).sort()) {
    if (!/\.(json|ya?ml)$/.test(name)) continue;
    const path = join(dir, name);
    const text = readTextBounded(path, { kind: "policy", what: "policy file" });
    const value = parsePolicyText(text, name.endsWith(".json") ? "json" : "yaml", name);
    for (const p of reader.policySet(value, name)) {
      const seen = ids.get(p.id);
      if (seen !== undefined)
        throw new KeywardError(
          "ERR_SERVICE_CONFIG",
          `${name}: policy id "${p.id}" already defined in ${seen}`,
        );
      ids.set(p.id, name);
      out.push({ policy: p, source: `file:${name}`, version: 0 });
    }
  }
  return out;
}

/**
 * Where a JSON or YAML parser stopped (" at line L, column C"), without the parser's message: those
 * quote the text around the error, and a policy's text may hold an app token.
 */
export function whereIn(cause: unknown): string {
  const yaml = (cause as { linePos?: readonly { line: number; col: number }[] }).linePos?.[0];
  if (yaml !== undefined) return ` at line ${yaml.line}, column ${yaml.col}`;
  const json = /line (\d+) column (\d+)/.exec(String((cause as Error)?.message));
  if (json !== null) return ` at line ${json[1]}, column ${json[2]}`;
  return "";
}

export interface PolicyWatcher {
  current(): readonly ServicePolicy[];
  entries(): readonly PolicyEntry[];
  /** Re-reads now (the watcher calls this on changes). */
  reload(): void;
  close(): void;
}

/** Loads `dir` and watches it; `onError` hears about files that do not load (the old set stays). */
export function watchPolicyDir(
  dir: string,
  reader: PolicyReader,
  handlers: { onReload?: (policies: readonly ServicePolicy[]) => void; onError?: (e: unknown) => void } = {},
): PolicyWatcher {
  let entries: readonly PolicyEntry[] = loadPolicyEntries(dir, reader);
  let policies: readonly ServicePolicy[] = entries.map((e) => e.policy);
  let timer: NodeJS.Timeout | undefined;
  const reload = () => {
    try {
      entries = loadPolicyEntries(dir, reader);
      policies = entries.map((e) => e.policy);
      handlers.onReload?.(policies);
    } catch (e) {
      handlers.onError?.(e);
    }
  };
  const watcher = existsSync(dir)
    ? watch(dir, () => {
        clearTimeout(timer);
        timer = setTimeout(reload, 50);
      })
    : undefined;
  return {
    current: () => policies,
    entries: () => entries,
    reload,
    close() {
      clearTimeout(timer);
      watcher?.close();
    },
  };
}

/** The policies in force: the directory's files first, then those put through the Admin service. */
export interface PolicySet {
  /** How documents are read (the grant kinds of the registered features). */
  readonly reader: PolicyReader;
  current(): readonly ServicePolicy[];
  entries(): readonly PolicyEntry[];
  /** Re-reads stored policies now (after a local change; replicas also poll). */
  refresh(): Promise<void>;
  close(): void;
}

/**
 * Combines `files` with the store's policies, re-read every `pollMs` so that replicas sharing a
 * database converge within that time. A stored policy whose id a file also defines is ignored
 * (files are the operator's; `onError` hears about it).
 */
export async function createPolicySet(
  files: Pick<PolicyWatcher, "entries" | "close">,
  store: Pick<Store, "listPolicies">,
  reader: PolicyReader,
  options: {
    /** A stored row's JSON document: the service opens sealed documents (kernel/policy-sealing.ts). */
    openDocument: (row: StoredPolicy) => string;
    pollMs?: number;
    onError?: (e: unknown) => void;
  },
): Promise<PolicySet> {
  let stored: readonly PolicyEntry[] = [];
  let combined: { entries: readonly PolicyEntry[]; policies: readonly ServicePolicy[] } = {
    entries: [],
    policies: [],
  };
  let lastFiles: readonly PolicyEntry[] | undefined;
  let lastShadowed = "";
  const combine = () => {
    const fileEntries = files.entries();
    const ids = new Set(fileEntries.map((e) => e.policy.id));
    const shadowed = stored.filter((e) => ids.has(e.policy.id)).map((e) => e.policy.id);
    // Said once per change of the conflict, not on every poll.
    if (shadowed.join("\0") !== lastShadowed)
      for (const id of shadowed)
        options.onError?.(
          new KeywardError(
            "ERR_SERVICE_POLICY_CONFLICT",
            `stored policy "${id}" is ignored: a policy file defines the same id`,
          ),
        );
    lastShadowed = shadowed.join("\0");
    const entries = [...fileEntries, ...stored.filter((e) => !ids.has(e.policy.id))];
    combined = { entries, policies: entries.map((e) => e.policy) };
    lastFiles = fileEntries;
  };
  // Parsed entries by id and version: a poll re-reads the rows but parses only what changed, and
  // an unchanged set keeps its array (so the appraisal index built for it stays).
  let parsed = new Map<string, PolicyEntry>();
  let lastKeys = "";
  const refresh = async () => {
    const rows = await store.listPolicies();
    const keys = rows.map((r) => `${r.id}\0${r.version}`).join("\n");
    if (keys === lastKeys && lastFiles !== undefined) return;
    const next: PolicyEntry[] = [];
    const nextParsed = new Map<string, PolicyEntry>();
    for (const r of rows) {
      const known = parsed.get(`${r.id}\0${r.version}`);
      if (known !== undefined) {
        next.push(known);
        nextParsed.set(`${r.id}\0${r.version}`, known);
        continue;
      }
      try {
        let value: unknown;
        const document = options.openDocument(r);
        try {
          value = JSON.parse(document);
        } catch (cause) {
          throw new KeywardError("ERR_SERVICE_CONFIG", `store:${r.id}: not valid JSON${whereIn(cause)}`, {
            cause,
          });
        }
        const entry: PolicyEntry = {
          policy: reader.policy(value, `store:${r.id}`),
          source: "store",
          version: r.version,
        };
        next.push(entry);
        nextParsed.set(`${r.id}\0${r.version}`, entry);
      } catch (e) {
        options.onError?.(e); // validated when put; only a hand-edited row lands here
      }
    }
    stored = next;
    parsed = nextParsed;
    lastKeys = keys;
    combine();
  };
  await refresh();
  const timer = setInterval(() => refresh().catch((e) => options.onError?.(e)), options.pollMs ?? 2000);
  timer.unref();
  const fresh = () => {
    if (files.entries() !== lastFiles) combine();
    return combined;
  };
  return {
    reader,
    current: () => fresh().policies,
    entries: () => fresh().entries,
    refresh,
    close() {
      clearInterval(timer);
      files.close();
    },
  };
}
