/**
 * Writes the subset of the Kubernetes OpenAPI v2 definitions that the test API server validates
 * against (`packages/testkit/src/kube-apiserver/openapi/`): the kinds it serves and every definition
 * they reference, descriptions removed. The input is a Kubernetes release's
 * `api/openapi-spec/swagger.json` (public reference data); the output records where it came from.
 *
 * usage: node tools/extract-k8s-openapi.ts SWAGGER_JSON RELEASE SOURCE_NOTE
 */
import { readFileSync, writeFileSync } from "node:fs";

const ROOTS = [
  "io.k8s.api.core.v1.Namespace",
  "io.k8s.api.core.v1.Pod",
  "io.k8s.api.core.v1.Service",
  "io.k8s.api.core.v1.ServiceAccount",
  "io.k8s.api.core.v1.Secret",
  "io.k8s.api.core.v1.ConfigMap",
  "io.k8s.api.apps.v1.Deployment",
  "io.k8s.api.rbac.v1.Role",
  "io.k8s.api.rbac.v1.RoleBinding",
  "io.k8s.api.policy.v1.PodDisruptionBudget",
  "io.k8s.api.networking.v1.NetworkPolicy",
  "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
  "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
];

const [input, release, note] = process.argv.slice(2);
if (input === undefined || release === undefined || note === undefined) {
  process.stderr.write("usage: node tools/extract-k8s-openapi.ts SWAGGER_JSON RELEASE SOURCE_NOTE\n");
  process.exit(2);
}
const swagger = JSON.parse(readFileSync(input, "utf8")) as { definitions: Record<string, unknown> };
const out: Record<string, unknown> = {};
const queue = [...ROOTS];
while (queue.length > 0) {
  const name = queue.shift() as string;
  if (name in out) continue;
  const def = swagger.definitions[name];
  if (def === undefined) throw new Error(`definition ${name} is not in ${input}`);
  out[name] = strip(def, queue);
}
const sorted = Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
writeFileSync(
  "packages/testkit/src/kube-apiserver/openapi/definitions.json",
  `${JSON.stringify({ "x-keyward-source": { release, file: "api/openapi-spec/swagger.json", note, roots: ROOTS }, definitions: sorted }, null, 1)}\n`,
);

// Drops descriptions (prose, not constraints) and queues every referenced definition.
function strip(value: unknown, refs: string[]): unknown {
  if (Array.isArray(value)) return value.map((v) => strip(v, refs));
  if (value === null || typeof value !== "object") return value;
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === "description") continue;
    if (k === "$ref" && typeof v === "string") refs.push(v.replace("#/definitions/", ""));
    o[k] = k === "properties" ? stripProperties(v as Record<string, unknown>, refs) : strip(v, refs);
  }
  return o;
}

function stripProperties(props: Record<string, unknown>, refs: string[]): unknown {
  return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, strip(v, refs)]));
}
