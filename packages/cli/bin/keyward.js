#!/usr/bin/env node
// The `keyward` command as npm links it. The program is keyward.ts: compiled to dist/ in the
// published package, run from sources in the repository, where npm scripts and `npx` pass Node
// the `keyward-source` condition (.npmrc). `#keyward` (package.json "imports") picks the one.
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
