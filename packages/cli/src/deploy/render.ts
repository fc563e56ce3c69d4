/**
 * One source for two outputs: the manifests `keyward deploy kubernetes` prints, and the templates
 * of the Helm chart in `deploy/helm/keyward/` (written by `tools/gen-helm-chart.ts`). The builders
 * of the manifests ask a {@link Render} for every setting and every optional part; the CLI's render
 * answers with the concrete values, the Helm render with references to `.Values` that become
 * template actions (`{{ .Values.replicas }}`, `{{- if .Values.hardware.enabled }}` … `{{- end }}`).
 * This is not a template engine: templates are only written here, never evaluated.
 *
 * @module
 */
import { stringify } from "yaml";

/** A condition: its value for the CLI, and the Go-template expression it stands for in the chart. */
export interface Cond {
  readonly cli: boolean;
  readonly helm: string;
}

/** What builders ask. */
export interface Render {
  readonly helm: boolean;
  /** A scalar setting: `v` for the CLI, `{{ EXPR }}` (strings quoted) in the chart. */
  value<T extends string | number | boolean>(expr: string, v: T): T;
  /** A map or list setting: `v` for the CLI, `{{- toYaml EXPR | nindent N }}` in the chart. */
  block<T extends object>(expr: string, v: T): T;
  /** Map entries present only when `c` holds. */
  entries<T extends object>(c: Cond, v: T): Partial<T>;
  /** List items present only when `c` holds. */
  items<T>(c: Cond, v: readonly T[]): T[];
}

/** The CLI's render: concrete values, optional parts kept or dropped. */
export const cliRender: Render = {
  helm: false,
  value: (_e, v) => v,
  block: (_e, v) => v,
  entries: (c, v) => (c.cli ? v : {}),
  items: (c, v) => (c.cli ? [...v] : []),
};

type Marker =
  | { readonly kind: "value"; readonly expr: string; readonly quote: boolean }
  | { readonly kind: "block"; readonly expr: string }
  | { readonly kind: "if"; readonly cond: string }
  | { readonly kind: "items"; readonly cond: string };

/** The chart's render: markers in the object tree, turned into template actions by {@link toTemplate}. */
export class HelmRender implements Render {
  readonly helm = true;
  readonly #markers = new Map<string, Marker>();

  #mark(m: Marker): string {
    const token = `__HELM_${this.#markers.size}__`;
    this.#markers.set(token, m);
    return token;
  }

  value<T extends string | number | boolean>(expr: string, v: T): T {
    return this.#mark({ kind: "value", expr, quote: typeof v === "string" }) as T;
  }

  block<T extends object>(expr: string, _v: T): T {
    return this.#mark({ kind: "block", expr }) as unknown as T;
  }

  entries<T extends object>(c: Cond, v: T): Partial<T> {
    return { [this.#mark({ kind: "if", cond: c.helm })]: v } as unknown as Partial<T>;
  }

  items<T>(c: Cond, v: readonly T[]): T[] {
    return [{ [this.#mark({ kind: "items", cond: c.helm })]: [...v] } as unknown as T];
  }

  /** The template text of one document (the YAML of `doc` with its markers replaced). */
  toTemplate(doc: unknown): string {
    const lines = stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false }).trimEnd().split("\n");
    return `${this.#process(lines).join("\n")}\n`;
  }

  // Conditional blocks become `{{- if }}` … `{{- end }}` around their (re-indented, processed) lines.
  #process(lines: readonly string[]): string[] {
    const out: string[] = [];
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] as string;
      const m = /^(\s*)(- )?(__HELM_\d+__):$/.exec(line);
      const marker = m === null ? undefined : this.#markers.get(m[3] as string);
      if (m !== null && marker !== undefined && (marker.kind === "if" || marker.kind === "items")) {
        const indent = (m[1] as string).length;
        const block: string[] = [];
        while (i + 1 < lines.length && indentOf(lines[i + 1] as string) > indent)
          block.push(lines[++i] as string);
        const shift = Math.min(...block.map(indentOf)) - indent;
        out.push(`${" ".repeat(indent)}{{- if ${marker.cond} }}`);
        out.push(...this.#process(block.map((b) => b.slice(shift))));
        out.push(`${" ".repeat(indent)}{{- end }}`);
        continue;
      }
      out.push(this.#replaceValues(line));
    }
    return out;
  }

  #replaceValues(line: string): string {
    return line
      .replace(/__HELM_\d+__/g, (token) => {
        const marker = this.#markers.get(token);
        if (marker === undefined) return token;
        if (marker.kind === "value")
          return marker.quote ? `{{ ${marker.expr} | quote }}` : `{{ ${marker.expr} }}`;
        if (marker.kind === "block") {
          const indent = indentOf(line) + (line.trimStart().startsWith("- ") ? 4 : 2);
          return `\n${" ".repeat(indent)}{{- toYaml ${marker.expr} | nindent ${indent} }}`;
        }
        return token;
      })
      .replace(/: \n/, ":\n");
  }
}

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

/** A manifest and, for the chart, the condition it is rendered under and the template file it goes to. */
export interface Manifest {
  readonly object: Record<string, unknown>;
  /** Template file name in the chart (several documents may share one). */
  readonly file: string;
  /** Rendered only when this holds (CLI: `cli`; chart: wrapped in `{{- if helm }}`). */
  readonly when?: Cond;
  /** Printed by the CLI only (the chart leaves it to Helm, e.g. the Namespace). */
  readonly cliOnly?: boolean;
}

/** The CLI's YAML: multi-document, each `---`-separated, with a header comment. */
export function toYamlStream(manifests: readonly Manifest[], header: string): string {
  const docs = manifests
    .filter((m) => m.when === undefined || m.when.cli)
    .map((m) => stringify(m.object, { lineWidth: 0, aliasDuplicateObjects: false }).trimEnd());
  return `# ${header}\n${docs.map((d) => `---\n${d}\n`).join("")}`;
}

/** The CLI's `--json`: the manifests as one Kubernetes `List`. */
export function toJsonList(manifests: readonly Manifest[]): unknown {
  return {
    apiVersion: "v1",
    kind: "List",
    items: manifests.filter((m) => m.when === undefined || m.when.cli).map((m) => m.object),
  };
}
