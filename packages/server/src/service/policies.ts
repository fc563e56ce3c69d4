/**
 * Policies from a directory (`*.json`, `*.yaml`, `*.yml`; one policy or a list per file),
 * hot-reloaded: on any change the whole directory is re-read, and the new set replaces the old one
 * only when every file parses — otherwise the old set stays and the error names the file and problem.
 *
 * @module
 */
import { existsSync, readdirSync, readFileSync, watch } from "node:fs";
import { join } from "node:path";
import { type Policy, policySetFromObject } from "@keyward/attest/appraisal";
import { KeywardError } from "@keyward/attest/errors";
import { parse as parseYaml } from "yaml";

/** Reads every policy file of `dir` in name order; throws naming the file and the problem. */
export function loadPolicyDir(dir: string): Policy[] {
  if (!existsSync(dir)) return [];
  const out: Policy[] = [];
  const ids = new Map<string, string>();
  for (const name of readdirSync(dir).sort()) {
    if (!/\.(json|ya?ml)$/.test(name)) continue;
    const path = join(dir, name);
    let value: unknown;
    try {
      const text = readFileSync(path, "utf8");
      value = name.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
    } catch (cause) {
      throw new KeywardError(
        "ERR_SERVICE_CONFIG",
        `${name}: not valid ${name.endsWith(".json") ? "JSON" : "YAML"}: ${(cause as Error).message}`,
        { cause },
      );
    }
    for (const p of policySetFromObject(value, name)) {
      const seen = ids.get(p.id);
      if (seen !== undefined)
        throw new KeywardError(
          "ERR_SERVICE_CONFIG",
          `${name}: policy id "${p.id}" already defined in ${seen}`,
        );
      ids.set(p.id, name);
      out.push(p);
    }
  }
  return out;
}

export interface PolicyWatcher {
  current(): readonly Policy[];
  /** Re-reads now (the watcher calls this on changes). */
  reload(): void;
  close(): void;
}

/** Loads `dir` and watches it; `onError` hears about files that do not load (the old set stays). */
export function watchPolicyDir(
  dir: string,
  handlers: { onReload?: (policies: readonly Policy[]) => void; onError?: (e: unknown) => void } = {},
): PolicyWatcher {
  let policies: readonly Policy[] = loadPolicyDir(dir);
  let timer: NodeJS.Timeout | undefined;
  const reload = () => {
    try {
      policies = loadPolicyDir(dir);
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
    reload,
    close() {
      clearTimeout(timer);
      watcher?.close();
    },
  };
}
