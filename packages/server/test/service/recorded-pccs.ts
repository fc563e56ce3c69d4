/**
 * A PCCS for tests: it answers the PCS v4 paths a verifier fetches with Intel's recorded responses
 * for the automata-sgx-v3 vector (issuer chains in the response headers, as Intel's PCS sends
 * them), records every path asked for, and can be told to fail (503) to exercise fetch errors.
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const SGX = fileURLToPath(new URL("../../../attest/test/vectors/dcap/automata-sgx-v3/", import.meta.url));

/** A running recorded PCCS. */
export interface RecordedPccs {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** Every path asked for, in order. */
  readonly hits: string[];
  /** While true, every request gets 503. */
  failing: boolean;
  close(): Promise<void>;
}

/** Starts a recorded PCCS on a free loopback port. */
export async function startRecordedPccs(options: { failing?: boolean } = {}): Promise<RecordedPccs> {
  const collateral = JSON.parse(readFileSync(join(SGX, "collateral.json"), "utf8"));
  const chain = (pem: string) => encodeURIComponent(pem);
  const state = { hits: [] as string[], failing: options.failing ?? false };
  const server = createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0] ?? "";
    state.hits.push(path);
    if (state.failing) return void res.writeHead(503).end();
    if (path === "/sgx/certification/v4/tcb")
      return void res
        .writeHead(200, { "TCB-Info-Issuer-Chain": chain(collateral.tcb_info_issuer_chain) })
        .end(readFileSync(join(SGX, "tcb_info_response.json")));
    if (path === "/sgx/certification/v4/qe/identity")
      return void res
        .writeHead(200, { "SGX-Enclave-Identity-Issuer-Chain": chain(collateral.qe_identity_issuer_chain) })
        .end(readFileSync(join(SGX, "qe_identity_response.json")));
    if (path === "/sgx/certification/v4/pckcrl")
      return void res
        .writeHead(200, { "SGX-PCK-CRL-Issuer-Chain": chain(collateral.pck_crl_issuer_chain) })
        .end(readFileSync(join(SGX, "pck_crl.der")));
    if (path === "/sgx/certification/v4/rootcacrl")
      return void res.writeHead(200).end(collateral.root_ca_crl);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits: state.hits,
    get failing() {
      return state.failing;
    },
    set failing(v: boolean) {
      state.failing = v;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
