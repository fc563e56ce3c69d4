/**
 * Validation of the policy kinds: NetworkPolicy (selectors, ports, peers, CIDRs) and the RBAC
 * objects (a Role's rules; a RoleBinding's immutable roleRef and its subjects).
 *
 * @module
 */
import { isIP } from "node:net";
import { arr, jsonEqual, num, type Obj, obj, str } from "./json.ts";
import { isDns1123Subdomain } from "./names.ts";
import { forbiddenField, invalidValue, required, type StatusCause, unsupported } from "./status.ts";
import { validateLabelSelector } from "./validate-meta.ts";
import { validateIntOrName } from "./validate-pod.ts";

/** Every problem of a NetworkPolicy spec. */
export function validateNetworkPolicy(spec: Obj): StatusCause[] {
  const causes = validateLabelSelector(obj(spec.podSelector) ?? {}, "spec.podSelector");
  const TYPES = ["Ingress", "Egress"];
  const types = arr(spec.policyTypes);
  types.forEach((x, i) => {
    if (typeof x !== "string" || !TYPES.includes(x))
      causes.push(unsupported(`spec.policyTypes[${i}]`, x, TYPES));
  });
  if (new Set(types).size !== types.length)
    causes.push(invalidValue("spec.policyTypes", types, "duplicate policy type"));
  for (const dir of ["ingress", "egress"] as const)
    arr(spec[dir]).forEach((x, i) => {
      const rule = obj(x) ?? {};
      const at = `spec.${dir}[${i}]`;
      arr(rule.ports).forEach((y, j) => {
        const p = obj(y) ?? {};
        if (p.port !== undefined) causes.push(...validateIntOrName(p.port, `${at}.ports[${j}].port`));
        const proto = str(p.protocol);
        if (proto !== undefined && !["TCP", "UDP", "SCTP"].includes(proto))
          causes.push(unsupported(`${at}.ports[${j}].protocol`, proto, ["SCTP", "TCP", "UDP"]));
        const end = num(p.endPort);
        if (end !== undefined && (typeof p.port !== "number" || end < p.port))
          causes.push(
            invalidValue(
              `${at}.ports[${j}].endPort`,
              end,
              "must be greater than or equal to `port`, and `port` must be a number",
            ),
          );
      });
      arr(rule[dir === "ingress" ? "from" : "to"]).forEach((y, j) => {
        const peer = obj(y) ?? {};
        const pa = `${at}.${dir === "ingress" ? "from" : "to"}[${j}]`;
        const sel = ["podSelector", "namespaceSelector"].filter((k) => peer[k] !== undefined);
        const block = obj(peer.ipBlock);
        if (block !== undefined && sel.length > 0)
          causes.push(forbiddenField(pa, "may not specify both ipBlock and another peer"));
        if (sel.length === 0 && block === undefined) causes.push(required(pa, "must specify a peer"));
        for (const k of sel) causes.push(...validateLabelSelector(obj(peer[k]) ?? {}, `${pa}.${k}`));
        if (block !== undefined && !isCidr(str(block.cidr) ?? ""))
          causes.push(invalidValue(`${pa}.ipBlock.cidr`, block.cidr, "must be a valid CIDR"));
      });
    });
  return causes;
}

function isCidr(s: string): boolean {
  const [ip = "", bits, extra] = s.split("/");
  const kind = isIP(ip);
  return (
    kind !== 0 &&
    bits !== undefined &&
    extra === undefined &&
    /^\d+$/.test(bits) &&
    Number(bits) <= (kind === 4 ? 32 : 128)
  );
}

/** Every problem of a Role. */
export function validateRole(role: Obj): StatusCause[] {
  const causes: StatusCause[] = [];
  arr(role.rules).forEach((x, i) => {
    const rule = obj(x) ?? {};
    const at = `rules[${i}]`;
    if (arr(rule.verbs).length === 0)
      causes.push(required(`${at}.verbs`, "verbs must contain at least one value"));
    if (rule.nonResourceURLs !== undefined)
      causes.push(
        invalidValue(
          `${at}.nonResourceURLs`,
          rule.nonResourceURLs,
          "namespaced rules cannot apply to non-resource URLs",
        ),
      );
    if (rule.apiGroups === undefined)
      causes.push(required(`${at}.apiGroups`, "resource rules must supply at least one api group"));
    if (arr(rule.resources).length === 0)
      causes.push(required(`${at}.resources`, "resource rules must supply at least one resource"));
  });
  return causes;
}

/** Every problem of a RoleBinding (and of the change from `old`). */
export function validateRoleBinding(binding: Obj, old: Obj | undefined): StatusCause[] {
  const causes: StatusCause[] = [];
  const ref = obj(binding.roleRef) ?? {};
  if (ref.apiGroup !== "rbac.authorization.k8s.io")
    causes.push(unsupported("roleRef.apiGroup", ref.apiGroup, ["rbac.authorization.k8s.io"]));
  if (!["Role", "ClusterRole"].includes(str(ref.kind) ?? ""))
    causes.push(unsupported("roleRef.kind", ref.kind, ["Role", "ClusterRole"]));
  if ((str(ref.name) ?? "") === "") causes.push(required("roleRef.name"));
  if (old !== undefined && !jsonEqual(old.roleRef, binding.roleRef))
    causes.push(invalidValue("roleRef", ref, "cannot change roleRef"));
  arr(binding.subjects).forEach((x, i) => {
    const s = obj(x) ?? {};
    const kind = str(s.kind) ?? "";
    if (!["ServiceAccount", "User", "Group"].includes(kind))
      causes.push(unsupported(`subjects[${i}].kind`, kind, ["Group", "ServiceAccount", "User"]));
    if ((str(s.name) ?? "") === "") causes.push(required(`subjects[${i}].name`));
    if (kind === "ServiceAccount") {
      if ((str(s.apiGroup) ?? "") !== "")
        causes.push(unsupported(`subjects[${i}].apiGroup`, s.apiGroup, [""]));
      if (!isDns1123Subdomain(str(s.name) ?? ""))
        causes.push(invalidValue(`subjects[${i}].name`, s.name, "must be a DNS-1123 subdomain"));
    } else if (kind !== "" && s.apiGroup !== "rbac.authorization.k8s.io")
      causes.push(unsupported(`subjects[${i}].apiGroup`, s.apiGroup, ["rbac.authorization.k8s.io"]));
  });
  return causes;
}
