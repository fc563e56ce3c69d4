export type { ChannelRequest, ChannelResponse } from "./channel-protocol.ts";
export { CHANNEL_ENV, CHANNEL_FD } from "./channel-protocol.ts";
export type { LaunchOptions, RunningEnclave } from "./launcher.ts";
export { launchEnclave } from "./launcher.ts";
export type { EnclaveManifest } from "./manifest.ts";
export { loadManifest } from "./manifest.ts";
export type { Measurement } from "./measurement.ts";
export { measure, mrSignerOf } from "./measurement.ts";
