/**
 * deploy/systemd/keyward.service, checked offline by systemd's own tools (systemd is not PID 1 on
 * this machine, so the unit is verified and scored here, not started): `systemd-analyze verify`
 * (syntax, directive values, the executable) and `systemd-analyze security --offline` (the
 * exposure score). And the reason MemoryDenyWriteExecute stays off, shown with the kernel's own
 * W^X switch.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const UNIT = fileURLToPath(new URL("./keyward.service", import.meta.url));
const text = readFileSync(UNIT, "utf8");
const dir = mkdtempSync(join(tmpdir(), "keyward-systemd-test-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * The unit as installed, except that ExecStart names an executable that exists here: `verify`
 * checks that the command is executable, and the single executable is a copy of this Node binary.
 */
function installed(name: string, edit: (t: string) => string = (t) => t): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    edit(text.replace("ExecStart=/usr/local/bin/keyward", `ExecStart=${process.execPath}`)),
  );
  return path;
}
const analyze = (...args: string[]) => spawnSync("systemd-analyze", args, { encoding: "utf8", cwd: dir });

/** `Key=value` settings of the unit, in order. */
const settings = [...text.matchAll(/^([A-Za-z]+)=(.*)$/gm)].map(([, k = "", v = ""]) => [k, v] as const);
const values = (key: string) => settings.filter(([k]) => k === key).map(([, v]) => v);

describe("the systemd unit", () => {
  it("passes systemd-analyze verify without a single warning", () => {
    const r = analyze("verify", installed("keyward.service"));
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, "");
  });

  it("would be refused by systemd-analyze verify with a mistyped directive (the check can fail)", () => {
    const r = analyze(
      "verify",
      installed("typo.service", (t) => t.replace("ProtectSystem=strict", "ProtectSystem=stricter")),
    );
    assert.match(r.stderr, /ProtectSystem|protect system/i);
  });

  it("scores OK on systemd-analyze security (exposure at most 2.0 of 10)", () => {
    const r = analyze("security", "--offline=true", "--threshold=20", installed("keyward.service"));
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const score = Number(/Overall exposure level for \S+: ([\d.]+)/.exec(r.stdout)?.[1]);
    assert.ok(score <= 2.0, `exposure ${score}`);
  });

  it("sets the hardening the deployment guide promises", () => {
    const want: Record<string, string> = {
      ProtectSystem: "strict",
      NoNewPrivileges: "yes",
      PrivateTmp: "yes",
      ProtectHome: "yes",
      CapabilityBoundingSet: "",
      AmbientCapabilities: "",
      StateDirectory: "keyward",
      StateDirectoryMode: "0700",
      DynamicUser: "yes",
      RestrictAddressFamilies: "AF_UNIX AF_INET AF_INET6",
      SystemCallArchitectures: "native",
      UMask: "0077",
    };
    for (const [key, value] of Object.entries(want)) assert.deepEqual(values(key), [value], key);
    assert.deepEqual(values("SystemCallFilter"), ["@system-service", "~@privileged"]);
    assert.ok(values("ReadWritePaths").length > 0);
    assert.deepEqual(values("MemoryDenyWriteExecute"), [], "see the next test");
  });

  it("leaves MemoryDenyWriteExecute off because V8's JIT cannot run under W^X", (t) => {
    // PR_SET_MDWE (Linux ≥ 6.3) is the kernel switch behind MemoryDenyWriteExecute=yes.
    const underMdwe = (...args: string[]) =>
      spawnSync(
        "/usr/bin/python3",
        [
          "-c",
          "import ctypes,os,sys\nlibc=ctypes.CDLL(None,use_errno=True)\n" +
            "sys.exit(3) if libc.prctl(65,1,0,0,0)!=0 else os.execv(sys.argv[1],sys.argv[1:])",
          process.execPath,
          ...args,
        ],
        { encoding: "utf8" },
      );
    const jit = underMdwe("-e", "console.log('started')");
    if (jit.status === 3) return t.skip("this kernel has no PR_SET_MDWE (Linux < 6.3)");
    assert.notEqual(jit.status, 0, "Node with its JIT must not start under W^X");
    assert.doesNotMatch(jit.stdout, /started/);
    assert.match(jit.stderr, /SetPermissions|Fatal/);
    // Only V8's interpreter (--jitless) starts there, and without WebAssembly — which Node's
    // fetch needs (its HTTP parser), so Keyward does not run that way.
    const jitless = underMdwe("--jitless", "-e", "console.log('started', typeof WebAssembly)");
    assert.equal(jitless.status, 0, jitless.stderr);
    assert.equal(jitless.stdout.trim(), "started undefined");
  });
});
