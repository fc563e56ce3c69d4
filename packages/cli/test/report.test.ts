/**
 * `keyward quote report`: the HTML attestation report of real vectors, rendered by headless
 * Chromium (the Debian package, scripts/system-deps.sh): a screenshot is taken, and the page text
 * Chromium builds holds the verdict and the measurements. The page is self-contained (no script,
 * nothing to fetch, a CSP that forbids fetching) and escapes what it shows.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const bin = fileURLToPath(new URL("../bin/keyward.ts", import.meta.url));
const V = fileURLToPath(new URL("../../attest/test/vectors/dcap/", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "keyward-report-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const keyward = (...args: string[]) =>
  spawnSync(process.execPath, ["--disable-warning=ExperimentalWarning", bin, ...args], { encoding: "utf8" });

/** Runs headless Chromium on a file with a fresh profile; returns stdout. */
function chromium(page: string, ...args: string[]): { stdout: string; status: number | null } {
  const profile = mkdtempSync(join(dir, "profile-"));
  const r = spawnSync(
    "chromium",
    [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      `--user-data-dir=${profile}`,
      ...args,
      `file://${page}`,
    ],
    { encoding: "utf8", timeout: 90_000, maxBuffer: 64 << 20 },
  );
  return { stdout: r.stdout, status: r.status };
}

/** The text Chromium renders, from the DOM it dumps (tags removed, entities decoded). */
function pageText(page: string): string {
  const { stdout, status } = chromium(page, "--dump-dom");
  assert.equal(status, 0, "chromium --dump-dom");
  return stdout
    .replace(/<style>[\s\S]*?<\/style>/g, "")
    .replace(/<[^>]+>/g, " ")
    .replace(/&#(\d+);/g, (_m, n) => String.fromCharCode(Number(n)))
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&")
    .replace(/\s+/g, " ");
}

/** Asserts that the page text matches, without printing the whole page on failure. */
function has(text: string, re: RegExp): void {
  const m = re.exec(text);
  assert.ok(m !== null, `the page text matches ${re} (it starts: ${text.slice(0, 300)}…)`);
}

/** Width and height from a PNG's IHDR. */
function pngSize(file: string): { width: number; height: number } {
  const b = readFileSync(file);
  assert.deepEqual([...b.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], "a PNG");
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

function verdictOf(vector: string, at: string) {
  const r = keyward(
    "quote",
    "verify",
    `${V}${vector}/quote.bin`,
    "--collateral",
    `${V}${vector}/collateral.json`,
    "--at",
    at,
    "--json",
  );
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

describe("keyward quote report", () => {
  it("renders a real SGX vector's report, accepted by a policy, in Chromium (screenshot and page text)", () => {
    const at = "2025-08-15T05:45:00Z";
    const v = verdictOf("automata-sgx-v3", at);
    const policy = join(dir, "policy.json");
    writeFileSync(
      policy,
      JSON.stringify({
        id: "prod-enclave",
        tee: ["sgx"],
        mrEnclave: v.claims.mrEnclave,
        tcbStatuses: [v.tcbStatus],
      }),
    );
    const html = join(dir, "sgx.html");
    const r = keyward(
      "quote",
      "report",
      `${V}automata-sgx-v3/quote.bin`,
      "--collateral",
      `${V}automata-sgx-v3/collateral.json`,
      "--at",
      at,
      "--policy",
      policy,
      "--html",
      html,
      "--json",
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).outcome.kind, "accepted");

    const source = readFileSync(html, "utf8");
    assert.doesNotMatch(source, /<script|<link|<img|<iframe|\ssrc=|url\(/i, "nothing to load");
    assert.match(source, /Content-Security-Policy" content="default-src 'none'/);

    const png = join(dir, "sgx.png");
    assert.equal(chromium(html, `--screenshot=${png}`, "--window-size=1280,2400").status, 0);
    assert.deepEqual(pngSize(png), { width: 1280, height: 2400 });
    assert.ok(readFileSync(png).byteLength > 50_000, "the screenshot has content");

    const text = pageText(html);
    has(text, /Verdict ACCEPTED accepted by policy prod-enclave/);
    assert.ok(text.includes(v.claims.mrEnclave), "MRENCLAVE");
    assert.ok(text.includes(v.claims.mrSigner), "MRSIGNER");
    has(text, new RegExp(`TCB status ${v.tcbStatus}`));
    has(text, /TCB level matched, and why/);
    has(text, / matched /);
    has(text, new RegExp(`tcbStatus ${v.tcbStatus} ${v.tcbStatus} pass`));
    has(text, /PCK certificate chain/);
    has(text, /Intel SGX Root CA, pinned by its SHA-256 fingerprint/);
    has(text, /MRENCLAVE [0-9a-f]{64} measurement of the enclave/);
  });

  it("shows a TDX quote's MRTD and RTMRs, and a rejection with every rule, exit 1", () => {
    const at = "2025-06-05T03:45:00Z";
    const v = verdictOf("automata-tdx-v4", at);
    const policy = join(dir, "tdx-policy.json");
    writeFileSync(
      policy,
      JSON.stringify({ id: "tdx-strict", tee: ["tdx"], mrTd: "00".repeat(48), tcbStatuses: ["UpToDate"] }),
    );
    const html = join(dir, "tdx.html");
    const r = keyward(
      "quote",
      "report",
      `${V}automata-tdx-v4/quote.bin`,
      "--collateral",
      `${V}automata-tdx-v4/collateral.json`,
      "--at",
      at,
      "--policy",
      policy,
      "--html",
      html,
    );
    assert.equal(r.status, 1);
    assert.match(r.stderr, /rejected: REJECTED by policy tdx-strict/);
    const text = pageText(html);
    has(text, /Verdict REJECTED/);
    assert.ok(text.includes(v.claims.mrTd), "MRTD");
    for (const i of [0, 1, 2, 3]) has(text, new RegExp(`RTMR${i} [0-9a-f]{96}`));
    has(text, /mrTd 0{96} [0-9a-f]{96} FAIL/);
    has(text, /tcbStatus UpToDate OutOfDate FAIL/);
    has(text, /TDX components/);
    has(text, /TDX module TDX_01/);
  });

  it("reports a failed verification with its code (exit 1), and escapes what it shows", () => {
    const quote = join(dir, `q<img src=x onerror=alert(1)>&"'.bin`);
    copyFileSync(`${V}automata-sgx-v3/quote.bin`, quote);
    const html = join(dir, "failed.html");
    const r = keyward(
      "quote",
      "report",
      quote,
      "--collateral",
      `${V}automata-sgx-v3/collateral.json`,
      "--at",
      "2031-01-01T00:00:00Z",
      "--html",
      html,
      "--json",
    );
    assert.equal(r.status, 1);
    const out = JSON.parse(r.stdout);
    assert.equal(out.outcome.kind, "failed");
    assert.match(out.error.code, /^ERR_/);
    const source = readFileSync(html, "utf8");
    assert.doesNotMatch(source, /<img/);
    assert.match(source, /q&#60;img src=x onerror=alert\(1\)&#62;&#38;&#34;&#39;\.bin/);
    const text = pageText(html);
    has(text, new RegExp(`VERIFICATION FAILED .*${out.error.code}`));
    has(text, /Decoded quote/);
  });
});
