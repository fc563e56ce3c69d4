/**
 * Validation of a container's resource requests and limits: resource names (standard, or fully
 * qualified extended resources such as `sgx.intel.com/epc`), quantities, requests not above limits,
 * and the rule for extended resources, which cannot be overcommitted: whole numbers, a limit, and
 * requests equal to it (the API server's ValidateResourceRequirements).
 *
 * @module
 */
import { type Obj, obj } from "./json.ts";
import { isLabelKey } from "./names.ts";
import { invalidValue, required, type StatusCause } from "./status.ts";

const STANDARD_RESOURCES = ["cpu", "memory", "ephemeral-storage"];

/** Every problem of a container's `resources`. */
export function validateResources(resources: Obj, at: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const limits = obj(resources.limits) ?? {};
  const requests = obj(resources.requests) ?? {};
  for (const [kind, map] of [
    ["limits", limits],
    ["requests", requests],
  ] as const)
    for (const [name, q] of Object.entries(map)) {
      const where = `${at}.${kind}[${name}]`;
      const standard = STANDARD_RESOURCES.includes(name) || name.startsWith("hugepages-");
      if (!standard && !(name.includes("/") && isLabelKey(name)))
        causes.push(invalidValue(where, name, "must be a standard resource type or fully qualified"));
      const value = quantityValue(q);
      if (value === undefined) continue;
      if (value < 0) causes.push(invalidValue(where, q, "must be greater than or equal to 0"));
      if (isExtended(name) && !Number.isInteger(value))
        causes.push(invalidValue(where, q, "must be an integer"));
    }
  for (const [name, q] of Object.entries(requests)) {
    const req = quantityValue(q);
    const lim = quantityValue(limits[name]);
    if (isExtended(name)) {
      // Extended resources cannot be overcommitted: a limit is required and requests equal it.
      if (limits[name] === undefined)
        causes.push(required(`${at}.limits[${name}]`, "Limit must be set for non overcommitable resources"));
      else if (req !== lim)
        causes.push(
          invalidValue(
            `${at}.requests[${name}]`,
            q,
            `must be equal to ${name} limit of ${String(limits[name])}`,
          ),
        );
    } else if (req !== undefined && lim !== undefined && req > lim)
      causes.push(
        invalidValue(
          `${at}.requests[${name}]`,
          q,
          `must be less than or equal to ${name} limit of ${String(limits[name])}`,
        ),
      );
  }
  return causes;
}

function isExtended(name: string): boolean {
  return name.includes("/") && !name.startsWith("kubernetes.io/") && !name.startsWith("requests.");
}

const SUFFIX: Readonly<Record<string, number>> = {
  "": 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** The numeric value of a resource.Quantity (`"512Ki"` → 524288), or undefined when malformed. */
export function quantityValue(q: unknown): number | undefined {
  if (typeof q === "number") return q;
  if (typeof q !== "string") return undefined;
  const m = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/.exec(q);
  if (!m) return undefined;
  const n = Number(m[1]);
  const s = m[2] ?? "";
  if (/^[eE]/.test(s)) return n * 10 ** Number(s.slice(1));
  return n * (SUFFIX[s] ?? 1);
}
