/**
 * Validation of ObjectMeta and of label selectors, shared by every kind: name syntax per kind
 * (DNS-1123 subdomain for most, DNS-1123 label for Namespaces, DNS-1035 label for Services, a path
 * segment for RBAC objects), label and annotation syntax and size, owner references, finalizers.
 *
 * @module
 */
import { arr, type Obj, obj, str } from "./json.ts";
import {
  isDns1035Label,
  isDns1123Label,
  isDns1123Subdomain,
  isLabelKey,
  isLabelValue,
  isPathSegmentName,
} from "./names.ts";
import type { ResourceType } from "./resources.ts";
import { invalidValue, required, type StatusCause, unsupported } from "./status.ts";

const ANNOTATIONS_MAX_BYTES = 256 * 1024;

/** The name rule of a resource type. */
function nameRule(t: ResourceType): [(s: string) => boolean, string] {
  if (t.plural === "namespaces")
    return [
      isDns1123Label,
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
    ];
  if (t.plural === "services")
    return [
      isDns1035Label,
      "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character",
    ];
  if (t.group === "rbac.authorization.k8s.io")
    return [isPathSegmentName, "may not be '.' or '..' and may not contain '/' or '%'"];
  return [
    isDns1123Subdomain,
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
  ];
}

/** Every problem of `metadata`. */
export function validateMeta(t: ResourceType, meta: Obj): StatusCause[] {
  const causes: StatusCause[] = [];
  const name = str(meta.name) ?? "";
  if (name === "") causes.push(required("metadata.name", "name or generateName is required"));
  else {
    const [ok, why] = nameRule(t);
    if (!ok(name)) causes.push(invalidValue("metadata.name", name, why));
  }
  causes.push(...validateLabels(obj(meta.labels) ?? {}, "metadata.labels"));
  let size = 0;
  for (const [k, v] of Object.entries(obj(meta.annotations) ?? {})) {
    if (!isLabelKey(k))
      causes.push(
        invalidValue(
          "metadata.annotations",
          k,
          "name part must consist of alphanumeric characters, '-', '_' or '.'",
        ),
      );
    size += k.length + String(v).length;
  }
  if (size > ANNOTATIONS_MAX_BYTES)
    causes.push({
      reason: "FieldValueTooLong",
      message: `Too long: must have at most ${ANNOTATIONS_MAX_BYTES} bytes`,
      field: "metadata.annotations",
    });
  let controllers = 0;
  arr(meta.ownerReferences).forEach((x, i) => {
    const ref = obj(x) ?? {};
    for (const f of ["apiVersion", "kind", "name", "uid"])
      if ((str(ref[f]) ?? "") === "") causes.push(required(`metadata.ownerReferences[${i}].${f}`));
    if (ref.controller === true) controllers++;
  });
  if (controllers > 1)
    causes.push(
      invalidValue(
        "metadata.ownerReferences",
        controllers,
        "Only one reference can have Controller set to true",
      ),
    );
  arr(meta.finalizers).forEach((f, i) => {
    if (typeof f !== "string" || !isLabelKey(f))
      causes.push(invalidValue(`metadata.finalizers[${i}]`, f, "must be a qualified name"));
  });
  return causes;
}

/** Label keys and values (also `spec.selector` of Services). */
export function validateLabels(labels: Obj, at: string): StatusCause[] {
  const causes: StatusCause[] = [];
  for (const [k, v] of Object.entries(labels)) {
    if (!isLabelKey(k))
      causes.push(
        invalidValue(
          at,
          k,
          "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        ),
      );
    if (typeof v !== "string" || !isLabelValue(v))
      causes.push(
        invalidValue(
          `${at}[${k}]`,
          v,
          "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        ),
      );
  }
  return causes;
}

/** A metav1.LabelSelector: label syntax, operators, and values present exactly for In/NotIn. */
export function validateLabelSelector(selector: Obj, at: string): StatusCause[] {
  const causes = validateLabels(obj(selector.matchLabels) ?? {}, `${at}.matchLabels`);
  const OPS = ["In", "NotIn", "Exists", "DoesNotExist"];
  arr(selector.matchExpressions).forEach((x, i) => {
    const e = obj(x) ?? {};
    const ea = `${at}.matchExpressions[${i}]`;
    const op = str(e.operator) ?? "";
    if (!OPS.includes(op)) causes.push(unsupported(`${ea}.operator`, op, OPS));
    const values = arr(e.values);
    if ((op === "In" || op === "NotIn") && values.length === 0)
      causes.push(required(`${ea}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
    if ((op === "Exists" || op === "DoesNotExist") && values.length > 0)
      causes.push({
        reason: "FieldValueForbidden",
        message: "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
        field: `${ea}.values`,
      });
    const key = str(e.key) ?? "";
    if (!isLabelKey(key)) causes.push(invalidValue(`${ea}.key`, key, "must be a qualified name"));
  });
  return causes;
}

/** True when a selector has no requirement at all (it would select everything). */
export function isEmptySelector(selector: Obj | undefined): boolean {
  return (
    selector === undefined ||
    (Object.keys(obj(selector.matchLabels) ?? {}).length === 0 && arr(selector.matchExpressions).length === 0)
  );
}
