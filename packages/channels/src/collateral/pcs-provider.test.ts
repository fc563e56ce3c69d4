import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { createDcapVerifier } from "@keyward/attest/dcap";
import { collateralRequestFor, createCollateralProvider } from "./index.ts";

const V = fileURLToPath(new URL("../../../attest/test/vectors/dcap/automata-tdx-v4/", import.meta.url));
const collateral = JSON.parse(readFileSync(join(V, "collateral.json"), "utf8"));
const quote = new Uint8Array(readFileSync(join(V, "quote.bin")));
const at = new Date(JSON.parse(readFileSync(join(V, "expected.json"), "utf8")).verify_at);

let server: Server;
let base = "";
const hits = new Map<string, number>();
let mode: "ok" | "500" | "slow" | "huge" | "no-header" = "ok";

before(async () => {
  server = createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0] ?? "";
    hits.set(path, (hits.get(path) ?? 0) + 1);
    if (mode === "500") return void res.writeHead(500).end();
    if (mode === "slow") return void setTimeout(() => res.end("{}"), 2000);
    if (mode === "huge") return void res.writeHead(200, { "content-length": String(8 * 1024 * 1024) }).end();
    const chain = (pem: string) => encodeURIComponent(pem);
    if (path === "/tdx/certification/v4/tcb") {
      const h: Record<string, string> =
        mode === "no-header" ? {} : { "TCB-Info-Issuer-Chain": chain(collateral.tcb_info_issuer_chain) };
      return void res.writeHead(200, h).end(readFileSync(join(V, "tcb_info_response.json")));
    }
    if (path === "/tdx/certification/v4/qe/identity") {
      return void res
        .writeHead(200, { "SGX-Enclave-Identity-Issuer-Chain": chain(collateral.qe_identity_issuer_chain) })
        .end(readFileSync(join(V, "qe_identity_response.json")));
    }
    if (path === "/sgx/certification/v4/pckcrl") {
      return void res
        .writeHead(200, { "SGX-PCK-CRL-Issuer-Chain": chain(collateral.pck_crl_issuer_chain) })
        .end(readFileSync(join(V, "pck_crl.der")));
    }
    if (path === "/sgx/certification/v4/rootcacrl")
      return void res.writeHead(200).end(collateral.root_ca_crl); // hex, as older PCCS serve it
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("PCS/PCCS collateral provider", () => {
  it("assembles collateral that verifies the quote, from the quote's own PCK facts", async () => {
    mode = "ok";
    const request = collateralRequestFor(quote);
    assert.equal(request.tee, "tdx");
    assert.equal(request.ca, "platform");
    const provider = createCollateralProvider({ baseUrl: base, now: () => at });
    const c = await provider.get(request);
    assert.equal(createDcapVerifier().verify(quote, c, at).tcbStatus, "OutOfDate");
  });

  it("serves from cache, and shares one fetch among concurrent requests", async () => {
    mode = "ok";
    hits.clear();
    const provider = createCollateralProvider({ baseUrl: base, now: () => at });
    const request = collateralRequestFor(quote);
    const all = await Promise.all(Array.from({ length: 10 }, () => provider.get(request)));
    assert.ok(all.every((c) => c === all[0]));
    await provider.get(request);
    assert.equal(hits.get("/tdx/certification/v4/tcb"), 1);
    assert.equal(hits.get("/sgx/certification/v4/pckcrl"), 1);
    assert.equal(provider.size, 1);
  });

  it("refetches once the earliest nextUpdate has passed", async () => {
    mode = "ok";
    hits.clear();
    let now = at;
    const provider = createCollateralProvider({ baseUrl: base, now: () => now });
    await provider.get(collateralRequestFor(quote));
    now = new Date("2025-07-05T00:00:00Z"); // after TCB Info's nextUpdate (2025-07-04T09:51:38Z)
    await provider.get(collateralRequestFor(quote));
    assert.equal(hits.get("/tdx/certification/v4/tcb"), 2);
  });

  it("reports HTTP errors, timeouts, oversized bodies and missing headers with codes, and caches no failure", async () => {
    const provider = createCollateralProvider({ baseUrl: base, now: () => at, timeoutMs: 300 });
    const request = collateralRequestFor(quote);
    mode = "500";
    await assert.rejects(provider.get(request), { code: "ERR_COLLATERAL_FETCH_FAILED" });
    mode = "slow";
    await assert.rejects(provider.get(request), { code: "ERR_COLLATERAL_FETCH_FAILED" });
    mode = "huge";
    await assert.rejects(provider.get(request), { code: "ERR_COLLATERAL_MALFORMED" });
    mode = "no-header";
    await assert.rejects(provider.get(request), { code: "ERR_COLLATERAL_MALFORMED" });
    mode = "ok";
    assert.ok(await provider.get(request));
    await assert.rejects(createCollateralProvider({ baseUrl: "http://127.0.0.1:1" }).get(request), {
      code: "ERR_COLLATERAL_FETCH_FAILED",
    });
  });
});
