/**
 * An in-process HashiCorp Vault contract server for tests, built from Vault's API reference: KV
 * secrets engines version 1 and 2, the CLI's mount preflight, token lookup and ACLs (see
 * server.ts for what it answers). Test-only: nothing under `packages/*\/src` may import it.
 *
 * @example
 * ```ts
 * const vault = await startVaultContract();
 * vault.state.enableKv("occlum/1", 1);
 * vault.state.put("occlum/1/image_key", { key: "42-cd-4b" });
 * const token = vault.state.createToken({ rules: [{ path: "occlum/1/*", capabilities: ["read"] }], ttlSeconds: 3600 });
 * await vault.close();
 * ```
 *
 * @module
 */
export { startVaultContract, type VaultContractServer, type VaultRequestRecord } from "./server.ts";
export type { AclRule, Capability, KvVersion, VaultToken } from "./state.ts";
export { VaultState } from "./state.ts";
