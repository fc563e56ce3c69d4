/**
 * Renders a Gramine manifest template the way `gramine-manifest` does — Jinja2 with the `gramine`
 * namespace, `env` and `-D` defines — and parses the result as TOML, for tests on machines where
 * Gramine itself cannot be installed (it is not packaged by Debian, and no SGX hardware is here).
 * Undefined names fail, as they would make gramine-manifest fail.
 *
 * Uses Debian's `python3` with `python3-jinja2` (scripts/system-deps.sh) and Python's `tomllib`.
 * What is emulated: `gramine.libos`, `gramine.runtimedir()` (paths of a Gramine install on
 * Debian/Ubuntu x86-64), `env`, and the defines. Nothing else of gramine-manifest is.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** Where Gramine's packages install on x86-64 Debian and Ubuntu. */
export const GRAMINE_PATHS = {
  libos: "/usr/lib/x86_64-linux-gnu/gramine/libsysdb.so",
  runtimedir: "/usr/lib/x86_64-linux-gnu/gramine/runtime/glibc",
} as const;

const SCRIPT = `
import json, sys, tomllib, types
import jinja2
req = json.load(sys.stdin)
gramine = types.SimpleNamespace(libos=req["libos"], runtimedir=lambda libc="glibc": req["runtimedir"])
env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
text = env.from_string(req["template"]).render(gramine=gramine, env=req["env"], **req["defines"])
json.dump({"text": text, "manifest": tomllib.loads(text)}, sys.stdout)
`;

/** A rendered manifest: its text and the parsed TOML. */
export interface RenderedManifest {
  readonly text: string;
  readonly manifest: Record<string, unknown>;
}

/**
 * Renders `templatePath` with `defines` (the `-D` options) and `env` (what `env.get(...)` sees).
 * @throws Error with Python's message when the template does not render or the TOML does not parse
 */
export function renderGramineManifest(
  templatePath: string,
  defines: Readonly<Record<string, string>>,
  env: Readonly<Record<string, string>> = {},
): RenderedManifest {
  const input = JSON.stringify({
    template: readFileSync(templatePath, "utf8"),
    defines,
    env,
    ...GRAMINE_PATHS,
  });
  const r = spawnSync("/usr/bin/python3", ["-c", SCRIPT], { input, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`rendering ${templatePath} failed: ${r.stderr || r.error?.message}`);
  return JSON.parse(r.stdout) as RenderedManifest;
}
