/**
 * An in-process Kubernetes API server for tests, built from the public API reference and the
 * OpenAPI definitions of one Kubernetes release (see docs/kubernetes.md for what it models and what
 * it does not). Test-only: nothing under `packages/*\/src` may import it.
 *
 * @example
 * ```ts
 * const server = await startKubeApiServer({ namespaces: ["tenant"] });
 * const kc = new KubeConfig();
 * kc.loadFromString(server.kubeconfig());
 * const core = kc.makeApiClient(CoreV1Api);
 * await core.createNamespacedPod({ namespace: "tenant", body: pod });
 * server.kubelet.run("tenant", pod.metadata.name); // Running, Ready
 * await server.close();
 * ```
 *
 * @module
 */
export type { Api, WriteOptions, WriteResult } from "./api.ts";
export type { RequestRecord } from "./http.ts";
export type { Kubelet, KubeletMode } from "./kubelet.ts";
export { OPENAPI_RELEASE } from "./openapi.ts";
export type { UserInfo } from "./rbac.ts";
export { RESOURCES, type ResourceType } from "./resources.ts";
export {
  type KubeObject,
  type LabelSelectorObject,
  matchesLabelSelector,
  type OwnerReference,
} from "./selectors.ts";
export { type KubeApiServer, type KubeApiServerOptions, startKubeApiServer } from "./server.ts";
export type { StatusObject } from "./status.ts";
