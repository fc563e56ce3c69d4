/**
 * `keyward completion bash|zsh`: the generated scripts complete commands, subcommands, each
 * command's flags, files for file flags and the values of choice flags — run in real bash, and in
 * zsh with the completion system's builtins recorded instead of displayed.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { bashCompletion, zshCompletion } from "../src/completion.ts";
import { COMMANDS } from "../src/registry.ts";

const dir = mkdtempSync(join(tmpdir(), "keyward-completion-"));
after(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, "keyward.bash"), bashCompletion());
writeFileSync(join(dir, "keyward.zsh"), zshCompletion());
writeFileSync(join(dir, "quote.bin"), "");

/** COMPREPLY of bash completing `words`, the last being the word under the cursor. */
function bash(...words: string[]): string[] {
  const line = ["keyward", ...words];
  const script = `source ${join(dir, "keyward.bash")}
COMP_WORDS=(${line.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${line.length - 1}
_keyward; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync("bash", ["-c", script], { encoding: "utf8", cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split("\n").filter((l) => l !== "");
}

/** What zsh's _keyward offers for `words` (compadd, _describe and _files recorded). */
function zsh(...words: string[]): string {
  const line = ["keyward", ...words];
  const script = `compdef() { :; }
_describe() { local n=\${@[-1]}; print -r -- "describe: \${(P)n}"; }
_files() { print -r -- "files: $*"; }
compadd() { print -r -- "compadd: $*"; }
source ${join(dir, "keyward.zsh")}
words=(${line.map((w) => `'${w}'`).join(" ")}); CURRENT=${line.length}
_keyward`;
  const r = spawnSync("zsh", ["-f", "-c", script], { encoding: "utf8", cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

describe("shell completion", () => {
  it("bash: commands, subcommands, flags, files and choices", () => {
    assert.ok(bash("").includes("quote") && bash("").includes("demo") && bash("").includes("--version"));
    assert.deepEqual(bash("quote", ""), ["inspect", "verify", "report"]);
    assert.deepEqual(bash("admin", "put-"), ["put-secret", "put-policy"]);
    const flags = bash("quote", "verify", "--");
    for (const f of ["--collateral", "--pccs", "--at", "--policy", "--json", "--help"])
      assert.ok(flags.includes(f), f);
    assert.deepEqual(bash("quote", "verify", "--collateral", "quote."), ["quote.bin"]);
    assert.deepEqual(bash("quote", "inspect", "quo"), ["quote.bin"]);
    assert.deepEqual(bash("sim", "quote", "--tee", ""), ["sgx", "tdx"]);
    assert.deepEqual(bash("completion", ""), ["bash", "zsh"]);
    assert.deepEqual(bash("quote", "verify", "--at", ""), []);
  });

  it("bash: every registered command's flags are offered", () => {
    for (const { spec } of COMMANDS) {
      const offered = bash(...spec.name.split(" "), "--");
      for (const f of Object.keys(spec.options)) assert.ok(offered.includes(`--${f}`), `${spec.name} --${f}`);
      assert.equal(offered.includes("--json"), spec.json, `${spec.name} --json`);
    }
  });

  it("zsh: the script parses, and offers commands, flags with help, files and choices", () => {
    const syntax = spawnSync("zsh", ["-n", join(dir, "keyward.zsh")], { encoding: "utf8" });
    assert.equal(syntax.status, 0, syntax.stderr);
    const top = zsh("");
    assert.match(top, /^describe: .*demo:verify the bundled/);
    assert.match(top, / quote:quote commands \(keyward help quote\)/);
    assert.match(zsh("quote", ""), /describe: inspect:decode a DCAP quote.* verify:verify a DCAP quote/);
    assert.match(
      zsh("quote", "verify", "--"),
      /describe: .*--collateral:collateral JSON.*--json:print the result as JSON/,
    );
    assert.match(zsh("quote", "verify", "--collateral", ""), /^files: $/m);
    assert.match(zsh("sim", "init", "--data-dir", ""), /^files: -\/$/m);
    assert.match(zsh("sim", "quote", "--tee", ""), /^compadd: -- sgx tdx$/m);
  });

  it("is printed by keyward completion bash|zsh, and refuses another shell (exit 2)", () => {
    const bin = new URL("../bin/keyward.ts", import.meta.url).pathname;
    const b = spawnSync(process.execPath, [bin, "completion", "bash"], { encoding: "utf8" });
    assert.equal(b.status, 0);
    assert.equal(b.stdout, bashCompletion());
    const fish = spawnSync(process.execPath, [bin, "completion", "fish"], { encoding: "utf8" });
    assert.equal(fish.status, 2);
    assert.match(fish.stderr, /SHELL must be one of bash, zsh/);
  });
});
