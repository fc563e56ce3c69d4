/**
 * Node 24 marks `node:sqlite` experimental and prints a warning the first time a process (or
 * thread) loads it. Keyward uses it deliberately (docs/architecture.md), so that one warning would
 * only clutter every command's output and every log; all other warnings still print.
 *
 * @module
 */

/** Drops the SQLite ExperimentalWarning of this thread; call it before `node:sqlite` is loaded. */
export function quietSqliteWarning(): void {
  const emit = process.emitWarning;
  process.emitWarning = function (this: NodeJS.Process, warning: string | Error, ...rest: unknown[]) {
    const text = typeof warning === "string" ? warning : warning.message;
    const type = typeof rest[0] === "string" ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    if (
      (type === "ExperimentalWarning" || (warning as Error).name === "ExperimentalWarning") &&
      /SQLite/.test(text)
    )
      return;
    return (emit as (...a: unknown[]) => void).call(this, warning, ...rest);
  } as typeof process.emitWarning;
}
