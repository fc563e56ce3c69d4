/**
 * The TPM client and verifier against a real TPM 2.0 (swtpm), cross-checked both ways with
 * tpm2-tools. A fresh swtpm per suite, on a unix socket in a temporary directory.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { concatBytes } from "@keyward/attest/bytes";
import { KeywardError } from "@keyward/attest/errors";
import {
  makeCredential,
  parsePcrList,
  parseTpm2bPublic,
  parseTpmQuoteAttest,
  qualifiedName,
  TPM_ALG,
  verifyTpmQuote,
} from "@keyward/attest/tpm";
import {
  akEccTemplate,
  akRsaTemplate,
  ekEccTemplate,
  ekRsaTemplate,
  openTpmTransport,
  type Swtpm,
  startSwtpm,
  TPM_RH,
  TpmClient,
  type TpmTransport,
  unrestrictedSigningTemplate,
} from "@keyward/platform/tpm";

const work = mkdtempSync(join(tmpdir(), "keyward-tpm-test-"));
const sha256 = (...parts: Uint8Array[]) =>
  new Uint8Array(
    createHash("sha256")
      .update(concatBytes(...parts))
      .digest(),
  );
const nonce = new Uint8Array(32).map((_, i) => i + 1);
const pcr23 = parsePcrList("sha256:23");
let tpm: Swtpm;
let client: TpmClient;

function tools(tool: string, args: string[], env: Record<string, string> = {}) {
  return spawnSync(tool, args, {
    encoding: "utf8",
    cwd: work,
    timeout: 30_000, // a tool that waits for a TPM connection held elsewhere must not hang the suite
    env: { ...process.env, TPM2TOOLS_TCTI: tpm.tcti, ...env },
  });
}

before(async () => {
  // Real parts, never skipped: a missing tool fails the suite with the way to install it.
  for (const tool of ["swtpm", "tpm2_checkquote", "tpm2_quote", "tpm2_createek"]) {
    const r = spawnSync(tool, ["--version"], { encoding: "utf8" });
    assert.ok(
      r.error === undefined,
      `${tool} is missing: run \`bash scripts/system-deps.sh\` (Debian swtpm, swtpm-tools, tpm2-tools)`,
    );
  }
  tpm = await startSwtpm();
  client = TpmClient.open(tpm.uri);
  await client.startup();
});
after(async () => {
  client.close();
  await tpm.stop();
  rmSync(work, { recursive: true, force: true });
});

describe("TPM client against swtpm", () => {
  for (const [kind, template] of [
    ["ECC P-256", akEccTemplate()],
    ["RSA-2048", akRsaTemplate()],
  ] as const) {
    it(`quotes with a ${kind} AK; our verifier and tpm2_checkquote both accept`, async () => {
      await client.pcrReset(23);
      await client.pcrExtend(23, sha256(new TextEncoder().encode("certificate")));
      const ak = await client.createPrimary(TPM_RH.ENDORSEMENT, template);
      const q = await client.quote(ak.handle, nonce, pcr23);
      const pcrs = await client.pcrRead(pcr23);
      await client.flushContext(ak.handle);
      const pub = parseTpm2bPublic(ak.public);
      assert.deepEqual(pub.name, ak.name);
      const v = verifyTpmQuote({
        ak: pub,
        quote: q.attest,
        signature: q.signature,
        extraData: nonce,
        pcrSelection: pcr23,
        pcrValues: pcrs,
      });
      assert.deepEqual(v.qualifiedSigner, qualifiedName(Uint8Array.of(0x40, 0, 0, 0x0b), pub));
      for (const [f, b] of [
        ["ak.pub", ak.public],
        ["q.msg", q.attest],
        ["q.sig", q.signature],
        ["pcrs.bin", pcrs],
      ] as const)
        writeFileSync(join(work, f), b);
      client.close(); // swtpm serves one connection at a time
      const r = tools("tpm2_checkquote", [
        "-u",
        "ak.pub",
        "-m",
        "q.msg",
        "-s",
        "q.sig",
        "-f",
        "pcrs.bin",
        "-l",
        "sha256:23",
        "-g",
        "sha256",
        "-q",
        Buffer.from(nonce).toString("hex"),
      ]);
      assert.equal(r.status, 0, r.stderr);
    });
  }

  it("verifies quotes made by tpm2_quote (AK under the EK, from tpm2_createak)", () => {
    client.close();
    const steps: string[][] = [
      ["tpm2_createek", "-c", "ek.ctx", "-G", "rsa", "-u", "ek.pub"],
      [
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
        "ak2.pub",
        "-n",
        "ak2.name",
        "-f",
        "tss",
      ],
      ["tpm2_flushcontext", "-t"],
      [
        "tpm2_quote",
        "-c",
        "ak.ctx",
        "-l",
        "sha256:23",
        "-q",
        Buffer.from(nonce).toString("hex"),
        "-g",
        "sha256",
        "-m",
        "t.msg",
        "-s",
        "t.sig",
      ],
      ["tpm2_flushcontext", "-t"],
      ["tpm2_pcrread", "sha256:23", "-o", "t.pcrs"],
    ];
    for (const [tool, ...args] of steps) {
      const r = tools(tool ?? "", args);
      assert.equal(r.status, 0, `${tool}: ${r.stderr}`);
    }
    const ak = parseTpm2bPublic(new Uint8Array(readFileSync(join(work, "ak2.pub"))));
    assert.deepEqual(ak.name, new Uint8Array(readFileSync(join(work, "ak2.name"))));
    const v = verifyTpmQuote({
      ak,
      quote: new Uint8Array(readFileSync(join(work, "t.msg"))),
      signature: new Uint8Array(readFileSync(join(work, "t.sig"))),
      extraData: nonce,
      pcrSelection: pcr23,
      pcrValues: new Uint8Array(readFileSync(join(work, "t.pcrs"))),
    });
    const ek = parseTpm2bPublic(new Uint8Array(readFileSync(join(work, "ek.pub"))));
    // The AK is a child of the EK: its qualified name chains through the EK's.
    assert.deepEqual(
      v.qualifiedSigner,
      qualifiedName(qualifiedName(Uint8Array.of(0x40, 0, 0, 0x0b), ek), ak),
    );
  });

  for (const [kind, template] of [
    ["RSA-2048", ekRsaTemplate()],
    ["ECC P-256", ekEccTemplate()],
  ] as const) {
    it(`activates our MakeCredential with a ${kind} EK, and only for the AK it names`, async () => {
      const ek = await client.createPrimary(TPM_RH.ENDORSEMENT, template);
      const ak = await client.createPrimary(TPM_RH.ENDORSEMENT, akEccTemplate());
      try {
        const ekPub = parseTpm2bPublic(ek.public);
        const secret = new Uint8Array(32).map((_, i) => 255 - i);
        const key = {
          type: ekPub.type,
          key: ekPub.key,
          nameAlg: "sha256" as const,
          symmetricBits: 128,
          coordinateSize: 32,
        };
        const c = makeCredential(key, secret, ak.name);
        assert.deepEqual(
          await client.activateCredential(ak.handle, ek.handle, c.credentialBlob, c.encryptedSecret),
          secret,
        );
        const otherName = concatBytes(Uint8Array.of(0, 0x0b), sha256(Uint8Array.of(1)));
        const wrong = makeCredential(key, secret, otherName);
        await assert.rejects(
          client.activateCredential(ak.handle, ek.handle, wrong.credentialBlob, wrong.encryptedSecret),
          {
            code: "ERR_TPM_RESPONSE",
          },
        );
      } finally {
        await client.flushContext(ak.handle);
        await client.flushContext(ek.handle);
      }
    });
  }

  it("rejects a quote forged with an unrestricted signing key, which tpm2_checkquote accepts", async () => {
    const key = await client.createPrimary(TPM_RH.ENDORSEMENT, unrestrictedSigningTemplate());
    const pcrs = await client.pcrRead(pcr23);
    // A TPMS_ATTEST written by hand, claiming whatever PCR digest and nonce the forger likes.
    const forged = concatBytes(
      Uint8Array.of(0xff, 0x54, 0x43, 0x47, 0x80, 0x18),
      Uint8Array.of(0, 2, 0, 0x0b), // qualifiedSigner: anything
      Uint8Array.of(0, 32),
      nonce,
      new Uint8Array(17).fill(1), // clockInfo
      new Uint8Array(8), // firmwareVersion
      Uint8Array.of(0, 0, 0, 1, 0, 0x0b, 3, 0, 0, 0x80),
      Uint8Array.of(0, 32),
      sha256(pcrs),
    );
    const signature = await client.sign(key.handle, sha256(forged));
    await client.flushContext(key.handle);
    const pub = parseTpm2bPublic(key.public);
    assert.throws(
      () =>
        verifyTpmQuote({
          ak: pub,
          quote: forged,
          signature,
          extraData: nonce,
          pcrSelection: pcr23,
          pcrValues: pcrs,
        }),
      (e: unknown) => (e as { detail?: { check?: string } }).detail?.check === "akAttributes",
    );
    assert.equal(parseTpmQuoteAttest(forged).extraData.byteLength, 32);
    for (const [f, b] of [
      ["u.pub", key.public],
      ["u.msg", forged],
      ["u.sig", signature],
      ["u.pcrs", pcrs],
    ] as const)
      writeFileSync(join(work, f), b);
    client.close();
    const r = tools("tpm2_checkquote", [
      "-u",
      "u.pub",
      "-m",
      "u.msg",
      "-s",
      "u.sig",
      "-f",
      "u.pcrs",
      "-l",
      "sha256:23",
      "-g",
      "sha256",
      "-q",
      Buffer.from(nonce).toString("hex"),
    ]);
    assert.equal(r.status, 0, `tpm2_checkquote was expected to accept the forgery: ${r.stderr}`);
  });

  it("reads PCRs and names errors by their response code", async () => {
    await client.pcrReset(16);
    assert.deepEqual(await client.pcrRead(parsePcrList("sha256:16")), new Uint8Array(32));
    await assert.rejects(
      client.pcrReset(10),
      (e: unknown) =>
        (e as { code?: string; message?: string }).code === "ERR_TPM_RESPONSE" &&
        /LOCALITY/.test((e as Error).message),
    );
    await assert.rejects(client.flushContext(0x80ffffff), { code: "ERR_TPM_RESPONSE" });
  });

  for (const [kind, template, alg] of [
    ["rsa", ekRsaTemplate(), "rsa"],
    ["ecc", ekEccTemplate(), "ecc"],
  ] as const) {
    it(`creates the TCG default ${kind} EK byte for byte as tpm2_createek does, and reads it back`, async () => {
      const ek = await client.createPrimary(TPM_RH.ENDORSEMENT, template);
      const read = await client.readPublic(ek.handle);
      await client.flushContext(ek.handle);
      assert.deepEqual(read.public, ek.public);
      assert.deepEqual(read.name, ek.name);
      const pub = parseTpm2bPublic(ek.public);
      assert.deepEqual(read.qualifiedName, qualifiedName(Uint8Array.of(0x40, 0, 0, 0x0b), pub));
      client.close();
      const r = tools("tpm2_createek", ["-c", `ek-${kind}.ctx`, "-G", alg, "-u", `ek-${kind}.pub`]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(tools("tpm2_flushcontext", ["-t"]).status, 0);
      assert.deepEqual(ek.public, new Uint8Array(readFileSync(join(work, `ek-${kind}.pub`))));
    });
  }

  it("runs out of object slots when keys are not flushed, and recovers when they are", async () => {
    const loaded: number[] = [];
    try {
      let failure: unknown;
      for (let i = 0; i < 4 && failure === undefined; i++) {
        try {
          loaded.push((await client.createPrimary(TPM_RH.ENDORSEMENT, akEccTemplate())).handle);
        } catch (e) {
          failure = e;
        }
      }
      assert.equal(loaded.length, 3, "swtpm holds three transient objects");
      assert.equal((failure as { detail?: { rc?: string } }).detail?.rc, "0x902");
    } finally {
      for (const h of loaded) await client.flushContext(h);
    }
    for (let i = 0; i < 6; i++) {
      const k = await client.createPrimary(TPM_RH.ENDORSEMENT, akEccTemplate());
      await client.flushContext(k.handle);
    }
  });

  it("reads fixed properties with GetCapability (TPM_PT_MANUFACTURER is IBM for libtpms)", async () => {
    const data = await client.getCapability(6, 0x105, 1); // TPM_CAP_TPM_PROPERTIES, TPM_PT_MANUFACTURER
    const view = Buffer.from(data);
    assert.equal(view.readUInt32BE(0), 6);
    assert.equal(view.readUInt32BE(4), 1);
    assert.equal(view.readUInt32BE(8), 0x105);
    assert.equal(view.subarray(12, 16).toString("latin1"), "IBM\0");
  });

  it("powers on a swtpm started powered off, through its TCP control port (CMD_INIT), then starts it", async () => {
    const off = await startSwtpm({ transport: "tcp", poweredOff: true });
    const c = TpmClient.open(off.uri);
    try {
      await assert.rejects(c.pcrRead(pcr23), (e: unknown) => {
        return (e as { detail?: { rc?: string } }).detail?.rc === "0x101";
      });
      await c.startup();
      await c.pcrReset(23);
      assert.deepEqual(await c.pcrRead(pcr23), new Uint8Array(32));
    } finally {
      c.close();
      await off.stop();
    }
  });

  it("refuses every truncation of real responses, for every command that parses one", async () => {
    // Record swtpm's real responses, then replay each one cut short to a fresh client.
    const inner = openTpmTransport(tpm.uri);
    const recorded: Uint8Array[] = [];
    const recording: TpmTransport = {
      async send(command) {
        const r = await inner.send(command);
        recorded.push(r);
        return r;
      },
      close: () => inner.close(),
    };
    client.close();
    const c = new TpmClient(recording);
    const calls: ((t: TpmClient) => Promise<unknown>)[] = [];
    const record = async (f: (t: TpmClient) => Promise<unknown>) => {
      const before = recorded.length;
      await f(c);
      assert.equal(recorded.length, before + 1);
      calls.push(f);
    };
    const ak = await c.createPrimary(TPM_RH.ENDORSEMENT, akEccTemplate());
    calls.push((t) => t.createPrimary(TPM_RH.ENDORSEMENT, akEccTemplate()));
    await record((t) => t.readPublic(ak.handle));
    await record((t) => t.quote(ak.handle, nonce, pcr23));
    await record((t) => t.pcrRead(pcr23));
    await record((t) => t.getTpmProperties(0x105, 4));
    await record((t) => t.startPolicySession());
    await c.flushContext(ak.handle);
    await c.flushContext(Buffer.from(recorded[5] ?? []).readUInt32BE(10)); // the policy session
    c.close();
    const responses = recorded.slice(0, 6);
    assert.equal(responses.length, calls.length);
    for (const full of responses) assert.ok(full !== undefined && full.byteLength > 10);
    let refused = 0;
    for (const [i, full] of responses.entries()) {
      const call = calls[i];
      if (full === undefined || call === undefined) continue;
      for (let n = 0; n < full.byteLength; n++) {
        // The size field is made to agree with the cut, so that the parsers (not the size check)
        // meet the missing bytes. Cuts that end inside the header are refused too.
        const cut = full.slice(0, n);
        if (n >= 6) new DataView(cut.buffer).setUint32(2, n);
        const replay: TpmTransport = { send: async () => cut, close() {} };
        await assert.rejects(
          call(new TpmClient(replay)),
          (e: unknown) => e instanceof KeywardError,
          `response ${i} cut to ${n} of ${full.byteLength} bytes`,
        );
        refused++;
      }
    }
    assert.ok(refused > 300, `${refused} truncations refused`);
  });

  it("works over TCP too, and through the CLI: keyward tpm quote then keyward tpm verify-quote", async () => {
    const tcp = await startSwtpm({ transport: "tcp" });
    try {
      const bin = fileURLToPath(new URL("../../../cli/bin/keyward.ts", import.meta.url));
      const run = (...args: string[]) =>
        spawnSync(process.execPath, ["--disable-warning=ExperimentalWarning", bin, ...args], {
          encoding: "utf8",
        });
      const cert = join(work, "cert.der");
      writeFileSync(cert, new TextEncoder().encode("a certificate's DER bytes"));
      const hex = Buffer.from(nonce).toString("hex");
      for (const binding of ["pcr23", "extradata"]) {
        const out = join(work, `cli-${binding}`);
        const q = run(
          "tpm",
          "quote",
          "--tpm",
          tcp.uri,
          "--nonce",
          hex,
          "--pcr-list",
          "sha256:23",
          "--out",
          out,
          "--cert",
          cert,
          "--binding",
          binding,
        );
        assert.equal(q.status, 0, q.stderr);
        const common = [
          "--ak",
          join(out, "ak.pub"),
          "--quote",
          join(out, "quote.msg"),
          "--sig",
          join(out, "quote.sig"),
          "--pcrs",
          join(out, "pcrs.bin"),
          "--pcr-list",
          "sha256:23",
          "--cert",
          cert,
          "--binding",
          binding,
          "--ak-qname",
          join(out, "ak.qname"),
          "--json",
        ];
        const ok = run("tpm", "verify-quote", ...common, "--nonce", hex);
        assert.equal(ok.status, 0, ok.stdout + ok.stderr);
        assert.equal(JSON.parse(ok.stdout).akAttributesChecked, true);
        const stale = run("tpm", "verify-quote", ...common, "--nonce", "ff".repeat(32));
        assert.equal(stale.status, 1);
        assert.equal(JSON.parse(stale.stdout).error.check, "extraData");
      }
      assert.equal(run("tpm", "verify-quote", "--ak", "x").status, 2);
      assert.equal(run("tpm", "quote", "--tpm", "ftp://nope", "--nonce", hex, "--out", work).status, 2);
    } finally {
      await tcp.stop();
    }
    assert.equal(TPM_ALG.SHA256, 0x0b);
  });
});
