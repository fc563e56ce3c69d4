/**
 * The name syntaxes of the Kubernetes API ("Object Names and IDs", "Labels and Selectors"; the
 * validators of k8s.io/apimachinery/pkg/util/validation): DNS-1123 labels and subdomains, DNS-1035
 * labels, qualified names (label and annotation keys), label values, IANA service names (port
 * names) and the keys of ConfigMaps and Secrets.
 *
 * @module
 */

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/** RFC 1123 label: at most 63 of [a-z0-9-], starting and ending alphanumeric. */
export function isDns1123Label(s: string): boolean {
  return s.length <= 63 && DNS1123_LABEL.test(s);
}

/** RFC 1123 subdomain: at most 253 characters, dot-separated DNS-1123 labels. */
export function isDns1123Subdomain(s: string): boolean {
  return s.length > 0 && s.length <= 253 && s.split(".").every((l) => l.length > 0 && isDns1123Label(l));
}

/** RFC 1035 label (Service names): a DNS-1123 label that starts with a letter. */
export function isDns1035Label(s: string): boolean {
  return s.length <= 63 && DNS1035_LABEL.test(s);
}

/** A qualified name (`prefix/name` or `name`): label keys, annotation keys, finalizers. */
export function isLabelKey(s: string): boolean {
  const slash = s.lastIndexOf("/");
  const prefix = slash === -1 ? undefined : s.slice(0, slash);
  const name = slash === -1 ? s : s.slice(slash + 1);
  if (prefix !== undefined && !isDns1123Subdomain(prefix)) return false;
  return name.length > 0 && name.length <= 63 && QUALIFIED_NAME_PART.test(name);
}

/** A label value: empty, or at most 63 alphanumerics with `-`, `_`, `.` inside. */
export function isLabelValue(s: string): boolean {
  return s === "" || (s.length <= 63 && QUALIFIED_NAME_PART.test(s));
}

/**
 * IANA_SVC_NAME (RFC 6335 §5.1), the syntax of port names: at most 15 of [a-z0-9-], at least one
 * letter, no leading, trailing or doubled hyphen.
 */
export function isIanaServiceName(s: string): boolean {
  return (
    s.length >= 1 &&
    s.length <= 15 &&
    /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(s) &&
    /[a-z]/.test(s) &&
    !s.includes("--")
  );
}

/** A key of a ConfigMap's or Secret's data: [-._a-zA-Z0-9]+, not "." or "..", at most 253. */
export function isConfigMapKey(s: string): boolean {
  return s.length > 0 && s.length <= 253 && /^[-._a-zA-Z0-9]+$/.test(s) && s !== "." && s !== "..";
}

/** An environment variable name as the API accepts it (printable ASCII, no "=", not empty). */
export function isEnvVarName(s: string): boolean {
  return s.length > 0 && /^[\x21-\x3c\x3e-\x7e]+$/.test(s);
}

/** A path-segment name (RBAC objects): anything but "." / ".." / containing "/" or "%". */
export function isPathSegmentName(s: string): boolean {
  return s.length > 0 && s !== "." && s !== ".." && !s.includes("/") && !s.includes("%");
}
