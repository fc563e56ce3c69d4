/**
 * The CLI's version, from its package.json, and the runtime it runs on.
 *
 * @module
 */
import pkg from "../package.json" with { type: "json" };

/** "0.1.0 (Node.js v24.9.0)". */
export function version(): string {
  return `${pkg.version} (Node.js ${process.version})`;
}
