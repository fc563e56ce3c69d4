import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { isDns1035Label, isDns1123Subdomain, isIanaServiceName, isLabelKey, isLabelValue } from "./names.ts";
import { RESOURCES } from "./resources.ts";
import {
  type KubeObject,
  matchesLabelSelector,
  parseFieldSelector,
  parseLabelSelector,
} from "./selectors.ts";
import { StatusError } from "./status.ts";

const withLabels = (labels: Record<string, string>): KubeObject => ({ metadata: { name: "o", labels } });
const pods = RESOURCES.find((t) => t.plural === "pods");

describe("label selectors", () => {
  it("parse every operator of the grammar", () => {
    const o = withLabels({ app: "web", "example.com/tier": "front", n: "7" });
    const yes = [
      "app=web",
      "app==web",
      "app!=db",
      "app in (web,db)",
      "app notin (db)",
      "example.com/tier",
      "!missing",
      "n>5",
      "n<8",
      "",
      " app = web , n ",
    ];
    const no = [
      "app=db",
      "app!=web",
      "app in (db)",
      "app notin (web, db)",
      "missing",
      "!app",
      "n>7",
      "app>1",
    ];
    for (const s of yes) assert.equal(parseLabelSelector(s)(o), true, s);
    for (const s of no) assert.equal(parseLabelSelector(s)(o), false, s);
  });

  it("refuse malformed requirements with 400", () => {
    for (const s of ["app in (a", "=x", "app=a b", "Bad Key=x", "app=-x-", "a in (b,c", "app==="]) {
      assert.throws(
        () => parseLabelSelector(s),
        (e: unknown) => e instanceof StatusError && e.status.code === 400,
        s,
      );
    }
  });

  it("never throw anything but a 400 Status, on any input (fuzz)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (s) => {
        try {
          parseLabelSelector(s)(withLabels({ a: "b" }));
        } catch (e) {
          assert.ok(e instanceof StatusError && e.status.code === 400);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("select an object by each of its own labels (property)", () => {
    const key = fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/);
    fc.assert(
      fc.property(fc.dictionary(key, fc.stringMatching(/^[a-z0-9]{1,8}$/), { minKeys: 1 }), (labels) => {
        const selector = Object.entries(labels)
          .map(([k, v]) => `${k}=${v}`)
          .join(",");
        assert.equal(parseLabelSelector(selector)(withLabels(labels)), true);
        assert.equal(matchesLabelSelector({ matchLabels: labels }, labels), true);
      }),
    );
  });

  it("match metav1.LabelSelector objects", () => {
    const labels = { app: "web", tier: "front" };
    assert.equal(matchesLabelSelector({}, labels), true, "an empty selector selects everything");
    assert.equal(
      matchesLabelSelector(
        { matchExpressions: [{ key: "tier", operator: "In", values: ["front"] }] },
        labels,
      ),
      true,
    );
    assert.equal(
      matchesLabelSelector(
        { matchExpressions: [{ key: "tier", operator: "NotIn", values: ["front"] }] },
        labels,
      ),
      false,
    );
    assert.equal(
      matchesLabelSelector({ matchExpressions: [{ key: "x", operator: "DoesNotExist" }] }, labels),
      true,
    );
    assert.equal(
      matchesLabelSelector({ matchExpressions: [{ key: "app", operator: "Bogus" }] }, labels),
      false,
    );
  });
});

describe("field selectors", () => {
  it("support the fields each kind supports and refuse others", () => {
    assert.ok(pods);
    const pod: KubeObject = {
      metadata: { name: "p", namespace: "n" },
      spec: { nodeName: "node-1" },
      status: { phase: "Running" },
    };
    assert.equal(parseFieldSelector(pods, "metadata.name=p,status.phase=Running")(pod), true);
    assert.equal(parseFieldSelector(pods, "spec.nodeName!=node-1")(pod), false);
    assert.equal(parseFieldSelector(pods, "metadata.name==p\\,q")({ metadata: { name: "p,q" } }), true);
    assert.throws(() => parseFieldSelector(pods, "spec.containers=x"), /field label not supported/);
    assert.throws(
      () => parseFieldSelector(pods, "nonsense"),
      (e: unknown) => e instanceof StatusError && e.status.code === 400,
    );
  });
});

describe("name syntaxes", () => {
  it("follow the API's validators", () => {
    assert.ok(
      isDns1123Subdomain("a.b-c.d") &&
        !isDns1123Subdomain("A.b") &&
        !isDns1123Subdomain("a..b") &&
        !isDns1123Subdomain("a".repeat(254)),
    );
    assert.ok(isDns1035Label("svc-1") && !isDns1035Label("1svc"));
    assert.ok(
      isLabelKey("app.kubernetes.io/name") &&
        !isLabelKey("/name") &&
        !isLabelKey("a/b/c") &&
        !isLabelKey("x".repeat(64)),
    );
    assert.ok(isLabelValue("") && isLabelValue("v1.2_3") && !isLabelValue("-v"));
    assert.ok(
      isIanaServiceName("grpc") &&
        isIanaServiceName("h2c-8080") &&
        !isIanaServiceName("8080") &&
        !isIanaServiceName("a--b") &&
        !isIanaServiceName("sixteen-chars-xx"),
    );
  });
});
