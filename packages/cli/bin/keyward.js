#!/usr/bin/env node
// The `keyward` command as npm links it. The program is keyward.ts: compiled to dist/ in the
// published package, run from sources in the repository, where npm scripts and `npx` pass Node
// the `keyward-source` condition (.npmrc). `#keyward` (package.json "imports") picks the one.
// Started directly in a checkout without a build (node_modules/.bin/keyward on PATH, as scripts
// and other tools call it), the condition is added here, for this process only: enclave apps
// started from sources add it themselves (platform runtime/child-module.ts).
import { existsSync } from "node:fs";
import * as nodeModule from "node:module";

const built = existsSync(new URL("../dist/bin/keyward.js", import.meta.url));
const source = existsSync(new URL("./keyward.ts", import.meta.url));
// registerHooks is Node >= 22.15; on an older Node the message below says what to do.
if (!built && source && typeof nodeModule.registerHooks === "function") {
  nodeModule.registerHooks({
    resolve: (specifier, context, next) =>
      next(specifier, {
        ...context,
        conditions: context.conditions.includes("keyward-source")
          ? context.conditions
          : [...context.conditions, "keyward-source"],
      }),
  });
}
import("#keyward").catch((e) => {
  if (e?.code === "ERR_MODULE_NOT_FOUND" && String(e.message).includes("/dist/")) {
    process.stderr.write(
      "keyward: this checkout has no build: run it through npm (`npx keyward`), with `node --conditions=keyward-source`, or after `node tools/build-packages.ts`\n",
    );
    process.exitCode = 70;
    return;
  }
  throw e;
});
