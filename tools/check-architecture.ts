/**
 * Fails when an import crosses a line the design draws (DESIGN.md, STYLE.md): the verification
 * library is pure, node:crypto is called only from crypto/ and x509/, appraisal never re-verifies,
 * packages import each other only through their public entry points.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

interface Rule {
  readonly files: RegExp;
  readonly forbid: RegExp;
  readonly why: string;
}

const rules: readonly Rule[] = [
  {
    files: /^packages\/attest\/src\//,
    forbid:
      /^(node:(fs|fs\/promises|net|tls|http|https|http2|child_process|dgram|os)|@connectrpc\/|@keyward\/|pg$)/,
    why: "@keyward/attest is pure: bytes, a clock and trust roots in, claims or a KeywardError out",
  },
  {
    files: /^packages\/attest\/src\/(?!crypto\/|x509\/)/,
    forbid: /^node:crypto$/,
    why: "only crypto/ and x509/ talk to node:crypto",
  },
  {
    files: /^packages\/attest\/src\/appraisal\//,
    forbid: /\/(crypto|x509|dcap)\//,
    why: "appraisal decides on claims; it never re-verifies",
  },
  {
    files: /^packages\//,
    forbid: /^@keyward\/[a-z]+\/src\//,
    why: "packages import each other only through their exports map",
  },
  {
    files: /^packages\/(attest|platform)\/src\//,
    forbid: /^@keyward\/(server|cli|channels)/,
    why: "dependencies point down: cli → server → channels → platform → attest",
  },
  {
    files: /^(packages\/channels\/src\/|examples\/)/,
    forbid: /^(@keyward\/(server|cli)|pg$|pino$|yaml$)/,
    why: "enclave apps and @keyward/channels need no database driver, logger or YAML: attest, platform, channels and proto only",
  },
  {
    // Test files are skipped by the walk below, so this holds for product code only.
    files: /^packages\/(?!testkit\/)/,
    forbid: /^@keyward\/testkit(\/|$)/,
    why: "@keyward/testkit is test-only (contract servers): only tests and bench/ may import it",
  },
  {
    files: /^packages\/testkit\//,
    forbid: /^@keyward\/(server|cli)/,
    why: "@keyward/testkit stands in for outside systems; it never depends on the product it tests",
  },
];

const importSpecifier = /^\s*(?:import|export)\s(?!type\b)[^"']*?["']([^"']+)["']/gm;
const problems: string[] = [];

for (const file of [...walk("packages"), ...walk("examples")]) {
  if (/\/(node_modules|gen)\/|\.test\.ts$|\/test\//.test(file)) continue;
  const source = readFileSync(file, "utf8");
  for (const [, spec = ""] of source.matchAll(importSpecifier)) {
    for (const rule of rules) {
      if (rule.files.test(file) && rule.forbid.test(spec))
        problems.push(`${file}: imports "${spec}" — ${rule.why}`);
    }
  }
  // One way to read a file: the bounded reader of @keyward/platform/io (docs/security.md, "Reading
  // input"). packages/server joins this list once its reads are converted.
  if (
    /^packages\/(cli|platform)\/src\//.test(file) &&
    !file.startsWith("packages/platform/src/io/") &&
    /\b(readFileSync|readFile|createReadStream)\s*\(/.test(source)
  ) {
    problems.push(
      `${file}: reads a file directly — use readFileBounded/readTextBounded from @keyward/platform/io`,
    );
  }
  if (
    file.startsWith("packages/attest/src/") &&
    /\b(Math\.random|Date\.now)\(|\bprocess\.env\b|new Date\(\)/.test(source)
  ) {
    problems.push(
      `${file}: reads the clock, the environment or Math.random — the library takes them as input`,
    );
  }
}

if (problems.length > 0) {
  process.stderr.write(`${problems.join("\n")}\n`);
  process.exitCode = 1;
}

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== "node_modules") yield* walk(path);
    else if (path.endsWith(".ts")) yield path;
  }
}
