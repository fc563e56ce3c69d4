import { EXIT, type ExitCode } from "../output.ts";
import type { licensingServe } from "../specs/licensing.ts";
import type { Parsed } from "../specs/types.ts";

/**
 * `keyward licensing serve --listen HOST:PORT [...]` — `keyward serve` with the licensing feature
 * on --listen: its flags are mapped onto the service's `--licensing-*` options (the contract of
 * `keyward deploy kubernetes --licensing`); the service's own mutual RA-TLS listener stays on
 * loopback. With --kubernetes-namespace the enclaves run as pods.
 */
export async function run(parsed: Parsed<typeof licensingServe>): Promise<ExitCode> {
  const v = parsed.values;
  const mapped: Record<string, string | boolean | undefined> = {
    listen: "127.0.0.1:0",
    "licensing-listen": v.listen ?? "0.0.0.0:8443",
    "ops-listen": v["ops-listen"],
    "data-dir": v["data-dir"],
    "database-url": v["database-url"],
    simulation: v.simulation,
    "log-level": v["log-level"],
    "licensing-secrets-dir": v["secrets-dir"],
    "licensing-tpm": v.tpm,
    "licensing-ek-chain": v["ek-chain"],
    "licensing-kubernetes-namespace": v["kubernetes-namespace"],
    "licensing-launcher": v["kubernetes-namespace"] === undefined ? undefined : "kubernetes",
    "licensing-launcher-id": v["launcher-id"],
    "licensing-owner-deployment": v["owner-deployment"],
    "licensing-enclave-image": v["enclave-image"],
    "licensing-enclave-mrenclave": v["enclave-mrenclave"],
    "licensing-trial": v.trial,
  };
  const values = Object.fromEntries(Object.entries(mapped).filter(([, x]) => x !== undefined));
  const serve = await import("./serve.ts");
  const code = await serve.run({ ...parsed, values } as never);
  return code ?? EXIT.ok;
}
