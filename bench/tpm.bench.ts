/**
 * TPM quotes per second through Keyward's client over TCP (swtpm), against one `tpm2_quote`
 * process per quote (plus the `tpm2_flushcontext` it needs without a resource manager), and quote
 * verifications per second.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parsePcrList, parseTpm2bPublic, verifyTpmQuote } from "@keyward/attest/tpm";
import { akEccTemplate, startSwtpm, TPM_RH, TpmClient } from "@keyward/platform/tpm";
import { type Tpm2ToolsAk, tpm2ToolsAk } from "./tpm2-tools.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? "3");
const selection = parsePcrList("sha256:23");
const nonce = new Uint8Array(32).fill(7);
const hex = Buffer.from(nonce).toString("hex");

async function rate(run: () => Promise<unknown> | unknown, seconds = SECONDS): Promise<number> {
  for (let i = 0; i < 5; i++) await run();
  const start = performance.now();
  let n = 0;
  while (performance.now() - start < seconds * 1000) {
    await run();
    n++;
  }
  return (n * 1000) / (performance.now() - start);
}

const tpm = await startSwtpm({ transport: "tcp" });
let peer: Tpm2ToolsAk | undefined;
try {
  const client = TpmClient.open(tpm.uri);
  await client.startup();
  const ak = await client.createPrimary(TPM_RH.ENDORSEMENT, akEccTemplate());
  let last: { attest: Uint8Array; signature: Uint8Array } | undefined;
  const ours = await rate(async () => {
    last = await client.quote(ak.handle, nonce, selection);
  });
  const pcrs = await client.pcrRead(selection);
  await client.flushContext(ak.handle);
  client.close();

  peer = tpm2ToolsAk(tpm.tcti);
  const tools = await rate(() => peer?.quote(hex), Math.max(SECONDS, 3));

  const akPub = parseTpm2bPublic(ak.public);
  if (last === undefined) throw new Error("no quote");
  const q = last;
  const verifications = await rate(() =>
    verifyTpmQuote({
      ak: akPub,
      quote: q.attest,
      signature: q.signature,
      extraData: nonce,
      pcrSelection: selection,
      pcrValues: pcrs,
    }),
  );
  const toolAk = parseTpm2bPublic(new Uint8Array(readFileSync(join(peer.dir, "ak.pub"))));
  verifyTpmQuote({
    ak: toolAk,
    quote: new Uint8Array(readFileSync(join(peer.dir, "q.msg"))),
    signature: new Uint8Array(readFileSync(join(peer.dir, "q.sig"))),
    extraData: nonce,
  });

  console.log(
    `TPM 2.0 quotes on swtpm over TCP (ECC P-256 AK, PCR sha256:23), ${SECONDS}s per cell, Node ${process.version}`,
  );
  console.log(
    `  Keyward client (one connection)      ${ours.toFixed(0).padStart(7)} quotes/s  (${(1000 / ours).toFixed(2)} ms each)`,
  );
  console.log(
    `  tpm2_quote + tpm2_flushcontext        ${tools.toFixed(1).padStart(7)} quotes/s  (${(1000 / tools).toFixed(1)} ms each)`,
  );
  console.log(`  ratio                                 ${(ours / tools).toFixed(1).padStart(7)}×`);
  console.log(
    `  Keyward quote verification           ${verifications.toFixed(0).padStart(7)} verifications/s`,
  );
} finally {
  await tpm.stop();
  peer?.close();
}
