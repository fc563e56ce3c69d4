/**
 * Resource paths ("API Concepts": resource URIs): `/api/v1/[namespaces/NS/]RESOURCE[/NAME[/SUB]]`
 * and `/apis/GROUP/VERSION/...`, the RBAC verb of a request, and the selectors of its query.
 *
 * @module
 */
import { type ResourceType, resourceByPath } from "./resources.ts";
import { type Matcher, parseFieldSelector, parseLabelSelector } from "./selectors.ts";
import { methodNotAllowed, StatusError } from "./status.ts";

/** What a resource path names. */
export interface Route {
  readonly t: ResourceType;
  readonly namespace: string | undefined;
  readonly name: string | undefined;
  readonly subresource: string | undefined;
}

/** The resource, namespace, name and subresource a path names. */
export function routeOf(path: string): Route {
  const segs = path
    .split("/")
    .filter((s) => s !== "")
    .map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (segs[0] === "api" && segs.length >= 2) [group, version, rest] = ["", segs[1] as string, segs.slice(2)];
  else if (segs[0] === "apis" && segs.length >= 3)
    [group, version, rest] = [segs[1] as string, segs[2] as string, segs.slice(3)];
  else throw new StatusError(404, "NotFound", "the server could not find the requested resource");
  const nsType = resourceByPath(group, version, rest[2] ?? "");
  if (rest[0] === "namespaces" && rest.length >= 3 && nsType?.namespaced === true) {
    if (rest.length > 5)
      throw new StatusError(404, "NotFound", "the server could not find the requested resource");
    return { t: nsType, namespace: rest[1], name: rest[3], subresource: sub(nsType, rest[4]) };
  }
  const t = resourceByPath(group, version, rest[0] ?? "");
  if (t === undefined || rest.length > 3 || (t.namespaced && rest.length > 1))
    throw new StatusError(404, "NotFound", "the server could not find the requested resource");
  return { t, namespace: undefined, name: rest[1], subresource: sub(t, rest[2]) };
}

function sub(t: ResourceType, s: string | undefined): string | undefined {
  if (s === undefined) return undefined;
  if (s === "status" && t.statusSubresource) return s;
  throw new StatusError(404, "NotFound", "the server could not find the requested resource");
}

/** The RBAC verb of a request. */
export function verbOf(method: string, route: Route, watch: boolean): string {
  const named = route.name !== undefined;
  if (method === "GET") return watch ? "watch" : named ? "get" : "list";
  if (method === "POST" && !named) return "create";
  if (method === "PUT" && named) return "update";
  if (method === "PATCH" && named) return "patch";
  if (method === "DELETE") return named ? "delete" : "deletecollection";
  throw methodNotAllowed(method);
}

/** The `labelSelector` and `fieldSelector` of a query, as one matcher. */
export function matcher(t: ResourceType, q: URLSearchParams): Matcher {
  const labels = parseLabelSelector(q.get("labelSelector") ?? "");
  const fields = parseFieldSelector(t, q.get("fieldSelector") ?? "");
  return (o) => labels(o) && fields(o);
}
