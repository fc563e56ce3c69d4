/**
 * TPM quotes per second through Keyward's client over TCP (swtpm), against one `tpm2_quote`
 * process per quote (plus the `tpm2_flushcontext` it needs without a resource manager), and quote
 * verifications per second.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parsePcrList, parseTpm2bPublic, verifyTpmQuote } from "@keyward/attest/tpm";
import { akEccTemplate, startSwtpm, TPM_RH, TpmClient } from "@keyward/platform/tpm";

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
const work = mkdtempSync(join(tmpdir(), "keyward-tpm-bench-"));
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

  const env = { ...process.env, TPM2TOOLS_TCTI: tpm.tcti };
  const run = (args: string[]) => {
    const r = spawnSync(args[0] ?? "", args.slice(1), { cwd: work, env, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${args[0]}: ${r.stderr}`);
  };
  run(["tpm2_createek", "-c", "ek.ctx", "-G", "ecc", "-u", "ek.pub"]);
  run([
    "tpm2_createak",
    "-C",
    "ek.ctx",
    "-c",
    "ak.ctx",
    "-G",
    "ecc",
    "-g",
    "sha256",
    "-s",
    "ecdsa",
    "-u",
    "ak.pub",
  ]);
  run(["tpm2_flushcontext", "-t"]);
  const tools = await rate(
    () => {
      run([
        "tpm2_quote",
        "-c",
        "ak.ctx",
        "-l",
        "sha256:23",
        "-q",
        hex,
        "-g",
        "sha256",
        "-m",
        "q.msg",
        "-s",
        "q.sig",
      ]);
      run(["tpm2_flushcontext", "-t"]);
    },
    Math.max(SECONDS, 3),
  );

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
  const toolAk = parseTpm2bPublic(new Uint8Array(readFileSync(join(work, "ak.pub"))));
  verifyTpmQuote({
    ak: toolAk,
    quote: new Uint8Array(readFileSync(join(work, "q.msg"))),
    signature: new Uint8Array(readFileSync(join(work, "q.sig"))),
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
  rmSync(work, { recursive: true, force: true });
}
