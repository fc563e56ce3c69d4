import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isKeywardError } from "@keyward/attest/errors";
import fc from "fast-check";
import { duplicateJsonKeys, parsePolicyText } from "./policy-text.ts";

const MR_DIGITS = "1".repeat(64);

function problemsOf(f: () => unknown): string[] {
  try {
    f();
  } catch (e) {
    assert.ok(isKeywardError(e), String(e));
    assert.equal(e.code, "ERR_POLICY_INVALID");
    return e.detail?.problems as string[];
  }
  assert.fail("accepted");
}

describe("policy text, strictly", () => {
  it("reads plain JSON and YAML policies", () => {
    const doc = { id: "a", platforms: ["simulated"], mrEnclave: MR_DIGITS, isvSvn: 3, debug: false };
    assert.deepEqual(parsePolicyText(JSON.stringify(doc), "json", "a.json"), doc);
    const yaml = `id: a\nplatforms: [simulated]\nmrEnclave: "${MR_DIGITS}"\nisvSvn: 3\ndebug: false\n`;
    assert.deepEqual(parsePolicyText(yaml, "yaml", "a.yaml"), doc);
    assert.deepEqual(parsePolicyText("- id: a\n- id: b\n", "yaml", "l.yaml"), [{ id: "a" }, { id: "b" }]);
  });

  it("refuses a key given twice, with its line and column (JSON and YAML, nested too)", () => {
    assert.deepEqual(
      problemsOf(() => parsePolicyText('{"id":"a",\n  "x":{"k":1,"k":2},\n "id":"b"}', "json", "d.json")),
      ["line 2, column 14: a key given twice", "line 3, column 2: a key given twice"],
    );
    assert.deepEqual(
      problemsOf(() => parsePolicyText("id: a\nx: 1\nid: b\n", "yaml", "d.yaml")),
      ["line 3, column 1: a key given twice"],
    );
    // The same key in two objects, or a key-like string as a value, is fine.
    assert.deepEqual(duplicateJsonKeys('[{"a":"a"},{"a":"a","b":["a","a"]}]'), []);
    assert.deepEqual(duplicateJsonKeys('{"a\\"":1,"a":2}'), []);
  });

  it("refuses values YAML's implicit typing would change, naming line and column", () => {
    const cases: [string, RegExp][] = [
      [`mrEnclave: ${MR_DIGITS}`, /line 1, column 12: a plain value YAML reads as the number 1\.1+2e\+63/],
      ["isvSvn: 0123", /reads as the number 123/],
      ["isvSvn: 0x10", /reads as the number 16/],
      ["isvSvn: 1e3", /reads as the number 1000/],
      ["isvSvn: .inf", /reads as the number Infinity/],
      ["debug: True", /reads as true/],
      ["isvSvn: 9007199254740993", /./],
      ["123: x", /a key that is not text/],
      ["id: !!int 3", /an explicit tag/],
    ];
    for (const [text, expected] of cases) {
      const problems = problemsOf(() => parsePolicyText(`${text}\n`, "yaml", "t.yaml"));
      assert.match(problems.join("; "), expected, text);
    }
    assert.deepEqual(parsePolicyText('isvSvn: -1\nid: !!str 0123\nx: ""\n', "yaml", "t"), {
      isvSvn: -1,
      id: "0123",
      x: "",
    });
  });

  // ../shared/cases/yaml-warning-leaks-token: the yaml library printed its warning about an unknown
  // tag, with the line that held the app token, to the service's output.
  it("refuses unknown tags, prints nothing, and never quotes the text", (t) => {
    const printed: unknown[] = [];
    t.mock.method(process, "emitWarning", (...a: unknown[]) => void printed.push(a));
    t.mock.method(console, "warn", (...a: unknown[]) => void printed.push(a));
    t.mock.method(console, "error", (...a: unknown[]) => void printed.push(a));
    const text = 'id: leaky\napp_token: !vault "hvs.TOKEN-CANARY-12345"\n';
    const problems = problemsOf(() => parsePolicyText(text, "yaml", "p.yaml"));
    assert.deepEqual(problems, ["line 2, column 12: an unknown tag (only YAML's core tags are accepted)"]);
    assert.deepEqual(printed, []);
  });

  it("refuses several documents, bad syntax and alias bombs without quoting them", () => {
    assert.match(
      problemsOf(() => parsePolicyText("id: a\n---\nid: b\n", "yaml", "t")).join(),
      /more than one/,
    );
    const bomb = `a: &a ["x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n`;
    assert.match(problemsOf(() => parsePolicyText(bomb, "yaml", "t")).join(), /aliases/);
    const bad = problemsOf(() => parsePolicyText('{"token":"hvs.SECRET" oops}', "json", "t"));
    assert.ok(!bad.join().includes("SECRET"));
  });

  it("never throws anything but ERR_POLICY_INVALID, and never repeats a token it was given (property)", () => {
    const canary = "hvs.TOKEN-CANARY";
    const line = fc.oneof(
      fc.constantFrom(
        `app_token: "${canary}"`,
        `app_token: !vault "${canary}"`,
        `app_token: ${canary}`,
        `  - ${canary}`,
        `"app_token": "${canary}",`,
        "{",
        "}",
        "[",
        "id: a",
        "id: a",
        "&x a: *x",
        "\t- x",
        "---",
      ),
      fc.string({ maxLength: 20 }),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 8 }), fc.constantFrom("json", "yaml"), (lines, format) => {
        try {
          parsePolicyText(lines.join("\n"), format as "json" | "yaml", "t");
        } catch (e) {
          assert.ok(isKeywardError(e) && e.code === "ERR_POLICY_INVALID", String(e));
          assert.ok(!e.message.includes("CANARY"), e.message);
          assert.ok(!JSON.stringify(e.detail).includes("CANARY"));
        }
      }),
      { numRuns: 500 },
    );
  });
});
