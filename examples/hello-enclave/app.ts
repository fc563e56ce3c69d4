/**
 * The example enclave app. Run it under the simulated launcher:
 *
 *   keyward enclave run --manifest examples/hello-enclave/app.toml -- identity
 *   keyward enclave run --manifest examples/hello-enclave/app.toml -- quote OUT.bin [REPORT-DATA-HEX]
 *   keyward enclave run --manifest examples/hello-enclave/app.toml -- seal IN OUT [mrenclave|mrsigner]
 *   keyward enclave run --manifest examples/hello-enclave/app.toml -- unseal IN OUT
 */
import { readFileSync, writeFileSync } from "node:fs";
import { attest, identity, seal, unseal } from "@keyward/platform/enclave";
import { GREETING } from "./lib/greeting.ts";

const [mode = "identity", ...args] = process.argv.slice(2);
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

try {
  if (mode === "identity") {
    const me = await identity();
    if (me.tee !== "sgx") throw new Error("expected an SGX enclave");
    console.log(
      JSON.stringify({
        greeting: GREETING,
        mrEnclave: hex(me.mrEnclave),
        mrSigner: hex(me.mrSigner),
        isvProdId: me.isvProdId,
        isvSvn: me.isvSvn,
        debug: me.debug,
      }),
    );
  } else if (mode === "quote") {
    const [out, reportHex = ""] = args;
    if (out === undefined) throw new Error("usage: quote OUT [REPORT-DATA-HEX]");
    const reportData = new Uint8Array(64);
    reportData.set(Buffer.from(reportHex, "hex").subarray(0, 64));
    const evidence = await attest(reportData);
    writeFileSync(out, evidence.quote);
    console.log(
      JSON.stringify({ kind: evidence.kind, platform: evidence.platform, bytes: evidence.quote.byteLength }),
    );
  } else if (mode === "seal") {
    const [input, out, policy = "mrenclave"] = args;
    if (input === undefined || out === undefined || (policy !== "mrenclave" && policy !== "mrsigner"))
      throw new Error("usage: seal IN OUT [mrenclave|mrsigner]");
    writeFileSync(
      out,
      await seal(new Uint8Array(readFileSync(input)), {
        policy,
        aad: new TextEncoder().encode("hello-enclave"),
      }),
    );
    console.log(JSON.stringify({ sealed: out, policy }));
  } else if (mode === "unseal") {
    const [input, out] = args;
    if (input === undefined || out === undefined) throw new Error("usage: unseal IN OUT");
    writeFileSync(
      out,
      await unseal(new Uint8Array(readFileSync(input)), { aad: new TextEncoder().encode("hello-enclave") }),
    );
    console.log(JSON.stringify({ unsealed: out }));
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
} catch (e) {
  const code = (e as { code?: string }).code ?? "ERR_APP";
  console.error(JSON.stringify({ error: { code, message: e instanceof Error ? e.message : String(e) } }));
  process.exitCode = 1;
}
