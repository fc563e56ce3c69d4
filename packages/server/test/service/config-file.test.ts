/**
 * The configuration file: YAML and TOML by extension, keys from the option table, precedence
 * flags > environment > file > default, every problem listed at once, secrets refused (by key,
 * never echoed).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { isKeywardError, KeywardError } from "@keyward/attest/errors";
import fc from "fast-check";
import { loadServiceConfig, SERVICE_OPTIONS } from "../../src/main.ts";
import { LOG_LEVEL } from "../../src/ops/config.ts";
import {
  type ConfigFile,
  parseConfigText,
  readConfigFile,
  secretLooking,
} from "../../src/ops/config-file.ts";

const dir = mkdtempSync(join(tmpdir(), "keyward-config-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function problemsOf(f: () => unknown): string[] {
  try {
    f();
  } catch (e) {
    assert.ok(isKeywardError(e, "ERR_SERVICE_CONFIG"), String(e));
    return (e as KeywardError).detail?.problems as string[];
  }
  assert.fail("accepted");
}

const URL_FILE = join(dir, "database-url");
writeFileSync(URL_FILE, "postgres://keyward:pw@db.internal/keyward\n", { mode: 0o600 });
const YAML = `# keyward.yaml
simulation: true
listen: "0.0.0.0:7443"
adminListen: 10.0.0.5:7444
opsListen: 0.0.0.0:9090
challengeListen: "[::1]:7445"
policyDir: /etc/keyward/policies
masterKeyFile: /run/secrets/master.key
databaseUrlFile: ${URL_FILE}
dbSchema: keyward
logLevel: warn
otpMaxFailures: 7
dataDir: /var/lib/keyward
`;
const TOML = `# keyward.toml
simulation = true
listen = "0.0.0.0:7443"
adminListen = "10.0.0.5:7444"
opsListen = "0.0.0.0:9090"
challengeListen = "[::1]:7445"
policyDir = "/etc/keyward/policies"
masterKeyFile = "/run/secrets/master.key"
logLevel = "warn"
otpMaxFailures = 7
dataDir = "/var/lib/keyward"
`;

describe("configuration file", () => {
  it("reads YAML and TOML into the same settings", () => {
    const y = loadServiceConfig("/d", {}, {}, readConfigFile(write("k.yaml", YAML)));
    const t = loadServiceConfig("/d", {}, {}, readConfigFile(write("k.toml", TOML)));
    for (const c of [y, t]) {
      assert.equal(c.simulation, true);
      assert.deepEqual([c.host, c.port], ["0.0.0.0", 7443]);
      assert.deepEqual(c.adminListen, { host: "10.0.0.5", port: 7444 });
      assert.deepEqual(c.opsListen, { host: "0.0.0.0", port: 9090 });
      assert.deepEqual(c.challengeListen, { host: "::1", port: 7445 });
      assert.equal(c.policyDir, "/etc/keyward/policies");
      assert.equal(c.masterKeyFile, "/run/secrets/master.key");
      assert.equal(c.masterKeyFileExplicit, true, "a file's value counts as given");
      assert.equal(c.adminListenExplicit, true);
      assert.equal(c.logLevel, "warn");
      assert.equal(c.options.source(LOG_LEVEL), "file");
      const max = SERVICE_OPTIONS.find((o) => o.key === "otpMaxFailures");
      assert.ok(max !== undefined);
      assert.equal(c.options.get(max), 7, "a number is read as the flag's text would be");
    }
    assert.equal(y.options.source(SERVICE_OPTIONS.find((o) => o.key === "dbSchema") as never), "file");
    assert.deepEqual(y.database, {
      engine: "postgres",
      url: "postgres://keyward:pw@db.internal/keyward",
      schema: "keyward",
    });
    // .yml is YAML too.
    assert.equal(
      loadServiceConfig("/d", {}, {}, readConfigFile(write("k.yml", "logLevel: debug\n"))).logLevel,
      "debug",
    );
  });

  it("gives every option of the table a key that is its flag in camelCase", () => {
    const camel = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    for (const o of SERVICE_OPTIONS) assert.equal(o.key, camel(o.flag), o.flag);
    // …and every key is accepted in a file (its value may still be refused by its parser).
    const keys = new Map<string, unknown>(
      SERVICE_OPTIONS.map((o) => [o.key, o.kind === "boolean" ? false : "x"]),
    );
    for (const p of problemsOf(() => loadServiceConfig("/d", {}, {}, { path: "f.yaml", values: keys })))
      assert.doesNotMatch(p, /is not an option/, p);
  });

  it("takes flags over the environment over the file over defaults", () => {
    const file: ConfigFile = {
      path: "k.yaml",
      values: new Map<string, unknown>([
        ["listen", "127.0.0.1:1001"],
        ["opsListen", "127.0.0.1:2001"],
        ["logLevel", "error"],
        ["simulation", true],
      ]),
    };
    const env = { KEYWARD_OPS_LISTEN: "127.0.0.1:2002", KEYWARD_LOG_LEVEL: "debug" };
    const c = loadServiceConfig("/d", { "log-level": "trace" }, env, file);
    assert.equal(c.port, 1001, "file");
    assert.deepEqual(c.opsListen, { host: "127.0.0.1", port: 2002 }, "environment over file");
    assert.equal(c.logLevel, "trace", "flag over environment");
    assert.equal(c.simulation, true);
    // A switch the file turns on, the environment may turn off.
    assert.equal(loadServiceConfig("/d", {}, { KEYWARD_SIMULATION: "0" }, file).simulation, false);
    assert.equal(loadServiceConfig("/d", {}, {}, undefined).logLevel, "info", "default");
  });

  it("lists every problem of the file, the flags and the environment at once", () => {
    const file = readConfigFile(
      write(
        "bad.yaml",
        [
          "listen: nowhere",
          "admin-listen: 127.0.0.1:1", // the flag's spelling, not the key
          "KEYWARD_OPS_LISTEN: 127.0.0.1:2",
          "colour: blue",
          "simulation: yes please",
          "logLevel: [info]",
          "dataDir: 3",
          "",
        ].join("\n"),
      ),
    );
    const problems = problemsOf(() =>
      loadServiceConfig("/d", { attester: "sgx-sdk" }, { KEYWARD_PCCS_URL: "ftp://x" }, file),
    );
    const at = `${file.path}: `;
    for (const want of [
      `${at}listen must be HOST:PORT`,
      `${at}admin-listen is not a key: write adminListen`,
      `${at}KEYWARD_OPS_LISTEN is not a key: write opsListen`,
      `${at}colour is not an option of keyward serve`,
      `${at}simulation must be true or false`,
      `${at}logLevel must be a string`,
      `${at}dataDir must be a path`,
      "--attester/KEYWARD_ATTESTER",
      "--pccs-url/KEYWARD_PCCS_URL",
    ])
      assert.ok(
        problems.some((p) => p.startsWith(want)),
        `${want} in:\n${problems.join("\n")}`,
      );
    assert.equal(problems.length, 9, problems.join("\n"));
  });

  it("refuses secrets in the file, naming the key and never the value", () => {
    const secrets: Record<string, string> = {
      databaseUrl: "postgres://keyward:s3cr3t-pw@db.internal:5432/keyward",
      vaultAddr: "hvs.CAESIJlU8d4Zg2Wr3x0vK9bq7mTkQwA1",
      policyDir:
        "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----",
      masterKeyFile: "5f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0",
      kbsCert: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJl",
      otpOperatorRoles: "q7XvB2mK9pL4sT8wZ1nR6yC3fH5jD0gA",
    };
    const file: ConfigFile = { path: "k.yaml", values: new Map(Object.entries(secrets)) };
    const problems = problemsOf(() => loadServiceConfig("/d", {}, {}, file));
    for (const [key, value] of Object.entries(secrets)) {
      assert.ok(
        problems.some(
          (p) =>
            p.startsWith(`k.yaml: ${key} looks like a`) && p.includes("never go in the configuration file"),
        ),
        `${key}: ${problems.join("\n")}`,
      );
      for (const p of problems)
        assert.ok(!p.includes(value.slice(0, 12)), `the value of ${key} is not echoed`);
    }
    assert.ok(
      problems.some((p) => p.includes("databaseUrlFile")),
      "the URL's problem says where it goes instead",
    );
  });

  it("lets paths, addresses and URLs without a password through the secret check", () => {
    for (const v of [
      "/run/secrets/5f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff",
      "./keys/Master2024KeyFileForKeywardService01",
      "keyward.Q7XvB2mK9pL4sT8wZ1nR6yC3fH5jD0gA.yaml",
      "postgres://keyward@db.internal:5432/keyward?sslmode=verify-full",
      "https://pccs.internal:8081/sgx/certification/v4",
      "0.0.0.0:7443",
      "alice=admin+auditor,bob=auditor",
    ])
      assert.equal(secretLooking(v), undefined, v);
  });

  it("refuses unknown extensions, syntax errors and documents that are not a mapping", () => {
    const cases: [string, string, RegExp][] = [
      ["k.json", "{}", /must end in \.yaml, \.yml or \.toml/],
      ["k.conf", "listen: x", /must end in/],
      ["s.yaml", "listen: [\n", /not valid YAML/],
      ["d.yaml", "a: 1\na: 2\n", /not valid YAML: Map keys must be unique at line 2/],
      ["s.toml", 'listen = "x\n', /not valid TOML: .* at line 1/],
      ["l.yaml", "- listen\n- x\n", /must be a mapping/],
      ["n.yaml", "42\n", /must be a mapping/],
    ];
    for (const [name, text, want] of cases) {
      const path = write(name, text);
      assert.throws(
        () => readConfigFile(path),
        (e: unknown) => {
          assert.ok(isKeywardError(e, "ERR_SERVICE_CONFIG"), `${name}: ${String(e)}`);
          assert.match((e as KeywardError).message, want);
          return true;
        },
      );
    }
    // An empty YAML file is an empty mapping: every default.
    assert.equal(readConfigFile(write("e.yaml", "")).values.size, 0);
  });

  it("keeps a YAML alias bomb bounded", () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 0; i < 12; i++) {
      const prev = String.fromCharCode(97 + i);
      const next = String.fromCharCode(98 + i);
      lines.push(`${next}: &${next} [${Array(9).fill(`*${prev}`).join(",")}]`);
    }
    assert.throws(
      () => parseConfigText(lines.join("\n"), "yaml"),
      (e: unknown) => isKeywardError(e, "ERR_SERVICE_CONFIG"),
    );
  });

  it("refuses an unreadable file with ERR_IO naming it", () => {
    assert.throws(
      () => readConfigFile(join(dir, "missing.yaml")),
      (e: unknown) => {
        assert.ok(isKeywardError(e, "ERR_IO"));
        assert.match((e as Error).message, /missing\.yaml/);
        return true;
      },
    );
  });

  it("ends with our error or a configuration for any text (property)", () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 300 }),
        fc.constantFrom("yaml" as const, "toml" as const),
        (text, format) => {
          try {
            loadServiceConfig("/d", {}, {}, { path: `f.${format}`, values: parseConfigText(text, format) });
          } catch (e) {
            assert.ok(e instanceof KeywardError && e.code === "ERR_SERVICE_CONFIG", String(e));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
