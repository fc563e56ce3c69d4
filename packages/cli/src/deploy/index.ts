/**
 * Kubernetes manifests for Keyward, from one source for the CLI (`keyward deploy kubernetes`) and the
 * Helm chart (`tools/gen-helm-chart.ts`).
 *
 * @module
 */
import { licensingManifests } from "./licensing.ts";
import type { Manifest, Render } from "./render.ts";
import { serviceManifests } from "./service.ts";
import type { Settings } from "./settings.ts";

export { LICENSING_PORTS, licensingManifests } from "./licensing.ts";
export { cliRender, HelmRender, type Manifest, type Render, toJsonList, toYamlStream } from "./render.ts";
export { PATHS, PORTS, serviceManifests } from "./service.ts";
export { checkSettings, defaultSettings, type Labels, parseLabels, type Settings } from "./settings.ts";

/** Every manifest (each under its condition: the service's, the licensing server's). */
export function allManifests(r: Render, s: Settings): Manifest[] {
  return [...serviceManifests(r, s), ...licensingManifests(r, s)];
}
