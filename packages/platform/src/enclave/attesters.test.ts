/**
 * Gramine's /dev/attestation and Linux configfs-tsm cannot run here. These tests reproduce each
 * interface's documented behaviour — Gramine's as a directory tree, configfs-tsm's by emulating the
 * kernel's side of its files (a write to inblob produces outblob and bumps generation) — and run
 * the real attesters against them, with quotes from the simulated platform.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { initSimPlatform } from "../sim/index.ts";
import {
  configfsTsmAttester,
  gramineAttester,
  openAttester,
  sealWith,
  type TsmFs,
  unsealWith,
} from "./index.ts";

const work = mkdtempSync(join(tmpdir(), "keyward-attesters-"));
after(() => rmSync(work, { recursive: true, force: true }));
const sim = initSimPlatform(join(work, "sim"), { now: new Date() });
const rd = (v: number) => new Uint8Array(64).fill(v);
const enclave = {
  mrEnclave: new Uint8Array(32).fill(1),
  mrSigner: new Uint8Array(32).fill(2),
  isvProdId: 3,
  isvSvn: 4,
};

function gramineTree(quoteOver: Uint8Array, type = "dcap"): string {
  const root = mkdtempSync(join(work, "attestation-"));
  mkdirSync(join(root, "keys"));
  writeFileSync(join(root, "attestation_type"), `${type}\n`);
  writeFileSync(join(root, "user_report_data"), new Uint8Array(64));
  writeFileSync(join(root, "quote"), sim.quoteSgx({ ...enclave, reportData: quoteOver }));
  writeFileSync(join(root, "keys", "_sgx_mrenclave"), new Uint8Array(16).fill(0xaa));
  writeFileSync(join(root, "keys", "_sgx_mrsigner"), new Uint8Array(16).fill(0xbb));
  return root;
}

describe("Gramine /dev/attestation", () => {
  it("writes user_report_data, returns the quote, and checks it carries that report data", async () => {
    const root = gramineTree(rd(7));
    const a = gramineAttester(root);
    const e = await a.attest(rd(7));
    assert.equal(e.kind, "sgx-dcap");
    assert.deepEqual(new Uint8Array(readFileSync(join(root, "user_report_data"))), rd(7));
    await assert.rejects(a.attest(rd(8)), { code: "ERR_ATTESTER_FAILED" });
  });

  it("refuses a non-DCAP attestation type, and is found by auto-detection", async () => {
    await assert.rejects(gramineAttester(gramineTree(rd(0), "none")).attest(rd(0)), {
      code: "ERR_ATTESTER_UNAVAILABLE",
    });
    assert.equal(
      openAttester({ env: {}, gramineRoot: gramineTree(rd(0)), tsmReportDir: join(work, "nothing") }).backend,
      "gramine",
    );
    assert.throws(
      () => openAttester({ env: {}, gramineRoot: join(work, "none"), tsmReportDir: join(work, "nothing") }),
      {
        code: "ERR_ATTESTER_UNAVAILABLE",
      },
    );
  });

  it("seals with Gramine's keys; another key or policy does not open it", async () => {
    const root = gramineTree(rd(0));
    const a = gramineAttester(root);
    const blob = await sealWith(a, new TextEncoder().encode("secret"), { policy: "mrenclave" });
    assert.deepEqual(await unsealWith(a, blob), new TextEncoder().encode("secret"));
    for (let n = 0; n < blob.length; n++) {
      await assert.rejects(unsealWith(a, blob.subarray(0, n)), { code: "ERR_SEALED_BLOB_INVALID" });
    }
    const unknown = blob.slice();
    unknown[6] = 2; // a format version this code does not know
    await assert.rejects(unsealWith(a, unknown), { code: "ERR_SEALED_BLOB_INVALID" });
    writeFileSync(join(root, "keys", "_sgx_mrenclave"), new Uint8Array(16).fill(0xcc));
    await assert.rejects(unsealWith(gramineAttester(root), blob), { code: "ERR_SEALED_BLOB_INVALID" });
  });
});

/** configfs-tsm's kernel side: generation counts writes; a write to inblob makes outblob. */
function emulatedTsm(provider: string, interfere = false): TsmFs & { entries: Set<string> } {
  const files = new Map<string, Uint8Array>();
  const entries = new Set<string>();
  const dirOf = (p: string) => p.slice(0, p.lastIndexOf("/"));
  return {
    entries,
    mkdir(p) {
      if (entries.has(p)) throw new Error("EEXIST");
      entries.add(p);
      files.set(`${p}/generation`, new TextEncoder().encode("0\n"));
      files.set(`${p}/provider`, new TextEncoder().encode(`${provider}\n`));
    },
    rmdir(p) {
      entries.delete(p);
      for (const k of [...files.keys()]) if (k.startsWith(`${p}/`)) files.delete(k);
    },
    read(p) {
      const f = files.get(p);
      if (f === undefined) throw new Error(`ENOENT ${p}`);
      return f;
    },
    write(p, data) {
      const dir = dirOf(p);
      if (!p.endsWith("/inblob") || !entries.has(dir)) throw new Error("EACCES");
      const gen =
        Number(new TextDecoder().decode(files.get(`${dir}/generation`)).trim()) + (interfere ? 2 : 1);
      files.set(`${dir}/generation`, new TextEncoder().encode(`${gen}\n`));
      files.set(
        `${dir}/outblob`,
        provider === "tdx_guest"
          ? sim.quoteTdx({ mrTd: new Uint8Array(48).fill(9), reportData: data })
          : data,
      );
    },
  };
}

describe("configfs-tsm", () => {
  it("creates an entry, writes inblob, reads a TDX quote over it, and removes the entry", async () => {
    const fs = emulatedTsm("tdx_guest");
    const a = configfsTsmAttester("/sys/kernel/config/tsm/report", fs);
    const e = await a.attest(rd(5));
    assert.equal(e.kind, "tdx-dcap");
    assert.equal(fs.entries.size, 0);
    const me = await a.identity();
    assert.equal(me.tee, "tdx");
  });

  it("detects a concurrent writer through generation", async () => {
    await assert.rejects(configfsTsmAttester("/r", emulatedTsm("tdx_guest", true)).attest(rd(5)), {
      code: "ERR_ATTESTER_FAILED",
    });
  });

  it("passes SEV-SNP reports through, labelled, and refuses unknown providers", async () => {
    assert.equal(
      (await configfsTsmAttester("/r", emulatedTsm("sev_guest")).attest(rd(1))).kind,
      "sev-snp-report",
    );
    await assert.rejects(configfsTsmAttester("/r", emulatedTsm("other_guest")).attest(rd(1)), {
      code: "ERR_ATTESTER_FAILED",
    });
  });
});
