export type { ModuleCommand } from "./child-module.ts";
export { moduleCommand, RUN_MODULE_ARG, runChildModule } from "./child-module.ts";
export type { BundledDirectory } from "./embedded.ts";
export { embeddedKeys, embeddedText, isSingleExecutable, openBundledDirectory } from "./embedded.ts";
export { startThread } from "./threads.ts";
