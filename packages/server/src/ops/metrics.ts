/**
 * Prometheus counters (text format 0.0.4), served by the ops listener (health.ts). The release
 * gate counts every decision here; features may add their own counters.
 *
 * @module
 */

/** Counters by name and label set. */
export class Metrics {
  readonly #counters = new Map<string, Map<string, number>>();
  readonly #help = new Map<string, string>();

  /** Adds one to counter `name` with `labels` (`help` is recorded the first time). */
  inc(name: string, labels: Readonly<Record<string, string>> = {}, help = ""): void {
    if (!this.#help.has(name)) this.#help.set(name, help);
    const key = Object.entries(labels)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, "_")}"`)
      .join(",");
    const series = this.#counters.get(name) ?? new Map<string, number>();
    series.set(key, (series.get(key) ?? 0) + 1);
    this.#counters.set(name, series);
  }

  /** The exposition text of every counter. */
  render(): string {
    const out: string[] = [];
    for (const [name, series] of this.#counters) {
      out.push(`# HELP ${name} ${this.#help.get(name) ?? ""}`, `# TYPE ${name} counter`);
      for (const [labels, v] of series) out.push(`${name}${labels === "" ? "" : `{${labels}}`} ${v}`);
    }
    return `${out.join("\n")}\n`;
  }
}
