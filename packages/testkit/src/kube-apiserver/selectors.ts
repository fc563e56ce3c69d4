/**
 * Label and field selectors, as the API reference specifies them ("Labels and Selectors", "Field
 * Selectors"): `labelSelector` takes equality-based (`k=v`, `k==v`, `k!=v`) and set-based (`k in
 * (a,b)`, `k notin (a,b)`, `k`, `!k`) requirements, comma-separated, all of which must hold;
 * `fieldSelector` takes `field=value`, `field==value` and `field!=value` over the fields each kind
 * supports, and anything else is a 400.
 *
 * @module
 */
import { isLabelKey, isLabelValue } from "./names.ts";
import type { ResourceType } from "./resources.ts";
import { badRequest } from "./status.ts";

/** A parsed selector: true when an object's labels (or fields) satisfy it. */
export type Matcher = (object: KubeObject) => boolean;

/** The loose shape of every stored object. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** The parts of ObjectMeta the server itself reads and writes. */
export interface ObjectMeta {
  name?: string | undefined;
  generateName?: string | undefined;
  namespace?: string | undefined;
  uid?: string | undefined;
  resourceVersion?: string | undefined;
  generation?: number | undefined;
  creationTimestamp?: string | undefined;
  deletionTimestamp?: string | undefined;
  deletionGracePeriodSeconds?: number | undefined;
  labels?: Record<string, string> | undefined;
  annotations?: Record<string, string> | undefined;
  finalizers?: string[] | undefined;
  ownerReferences?: OwnerReference[] | undefined;
  [field: string]: unknown;
}

/** metav1.OwnerReference. */
export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

type Requirement =
  | { readonly op: "exists" | "!exists"; readonly key: string }
  | { readonly op: "in" | "notin"; readonly key: string; readonly values: readonly string[] }
  | { readonly op: "gt" | "lt"; readonly key: string; readonly n: number };

/**
 * Parses a `labelSelector` query value.
 * @throws StatusError 400 when a requirement does not parse or a key/value is malformed
 */
export function parseLabelSelector(text: string): Matcher {
  const requirements = splitTopLevel(text).map(parseRequirement);
  return (o) => requirements.every((r) => holds(r, o.metadata.labels ?? {}));
}

function parseRequirement(raw: string): Requirement {
  const s = raw.trim();
  const fail = (why: string) => badRequest(`unable to parse requirement: ${why}: "${s}"`);
  let m = /^!\s*([^\s!=<>(),]+)$/.exec(s);
  if (m) return { op: "!exists", key: key(m[1] as string, fail) };
  m = /^([^\s!=<>(),]+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(s);
  if (m) {
    const values = (m[3] as string).split(",").map((v) => v.trim());
    for (const v of values) if (!isLabelValue(v)) throw fail(`invalid label value "${v}"`);
    return { op: m[2] === "in" ? "in" : "notin", key: key(m[1] as string, fail), values };
  }
  m = /^([^\s!=<>(),]+)\s*(==|=|!=)\s*([^\s!=<>(),]*)$/.exec(s);
  if (m) {
    const value = m[3] as string;
    if (!isLabelValue(value)) throw fail(`invalid label value "${value}"`);
    return { op: m[2] === "!=" ? "notin" : "in", key: key(m[1] as string, fail), values: [value] };
  }
  m = /^([^\s!=<>(),]+)\s*(<|>)\s*(-?\d+)$/.exec(s);
  if (m) return { op: m[2] === ">" ? "gt" : "lt", key: key(m[1] as string, fail), n: Number(m[3]) };
  m = /^([^\s!=<>(),]+)$/.exec(s);
  if (m) return { op: "exists", key: key(m[1] as string, fail) };
  throw fail("found unexpected token");
}

function key(k: string, fail: (why: string) => Error): string {
  if (!isLabelKey(k)) throw fail(`invalid label key "${k}"`);
  return k;
}

function holds(r: Requirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.hasOwn(labels, r.key);
  const value = labels[r.key];
  switch (r.op) {
    case "exists":
      return has;
    case "!exists":
      return !has;
    case "in":
      return has && r.values.includes(value as string);
    case "notin":
      // "!=" and "notin" also select objects without the label at all.
      return !has || !r.values.includes(value as string);
    case "gt":
    case "lt": {
      if (!has || !/^-?\d+$/.test(value as string)) return false;
      const n = Number(value);
      return r.op === "gt" ? n > r.n : n < r.n;
    }
  }
}

// Commas inside "in (a,b)" do not split requirements.
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "," && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.filter((p) => p.trim() !== "");
}

/** metav1.LabelSelector (the object form used in specs). */
export interface LabelSelectorObject {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/**
 * True when `labels` satisfy a metav1.LabelSelector. An empty selector selects everything; an
 * unknown operator selects nothing (the server refuses such objects at validation).
 */
export function matchesLabelSelector(
  selector: LabelSelectorObject,
  labels: Readonly<Record<string, string>>,
): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const values = e.values ?? [];
    const ok =
      e.operator === "In"
        ? has && values.includes(labels[e.key] as string)
        : e.operator === "NotIn"
          ? !has || !values.includes(labels[e.key] as string)
          : e.operator === "Exists"
            ? has
            : e.operator === "DoesNotExist"
              ? !has
              : false;
    if (!ok) return false;
  }
  return true;
}

// Field selectors each kind supports beyond metadata.name and metadata.namespace (the API server's
// per-kind field label conversion functions).
const FIELDS: Readonly<Record<string, Readonly<Record<string, (o: KubeObject) => unknown>>>> = {
  pods: {
    "spec.nodeName": (o) => (o.spec as { nodeName?: string } | undefined)?.nodeName,
    "spec.restartPolicy": (o) => (o.spec as { restartPolicy?: string } | undefined)?.restartPolicy,
    "spec.schedulerName": (o) => (o.spec as { schedulerName?: string } | undefined)?.schedulerName,
    "spec.serviceAccountName": (o) =>
      (o.spec as { serviceAccountName?: string } | undefined)?.serviceAccountName,
    "status.phase": (o) => (o.status as { phase?: string } | undefined)?.phase,
    "status.podIP": (o) => (o.status as { podIP?: string } | undefined)?.podIP,
  },
  secrets: { type: (o) => o.type },
  namespaces: { "status.phase": (o) => (o.status as { phase?: string } | undefined)?.phase },
};

/**
 * Parses a `fieldSelector` query value for a resource type.
 * @throws StatusError 400 for a field the kind does not support or a malformed term
 */
export function parseFieldSelector(t: ResourceType, text: string): Matcher {
  const terms = splitEscaped(text).map((term) => {
    const m = /^([^=!]+?)(==|=|!=)(.*)$/s.exec(term);
    if (!m) throw badRequest(`invalid selector: '${term}'; can't understand '${term}'`);
    const field = m[1] as string;
    const getter =
      field === "metadata.name"
        ? (o: KubeObject) => o.metadata.name
        : field === "metadata.namespace"
          ? (o: KubeObject) => o.metadata.namespace
          : FIELDS[t.plural]?.[field];
    if (getter === undefined) throw badRequest(`field label not supported: ${field}`);
    const value = unescapeValue(m[3] as string);
    const negate = m[2] === "!=";
    return (o: KubeObject) => (String(getter(o) ?? "") === value) !== negate;
  });
  return (o) => terms.every((f) => f(o));
}

function splitEscaped(text: string): string[] {
  const out: string[] = [];
  let cur = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === "\\" && i + 1 < text.length) {
      cur += c + (text[i + 1] as string);
      i++;
    } else if (c === ",") {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  out.push(cur);
  return out.filter((p) => p !== "");
}

function unescapeValue(v: string): string {
  return v.replace(/\\(.)/g, "$1");
}
