/**
 * `keyward demo licensing`: the licensing server in simulation mode with swtpm as its TPM (when
 * installed) and the local launcher; a user signs up, logs in, launches the licensed app, verifies
 * its binding (EK certificate to swtpm's manufacturer CA, credential activation, quote for a fresh
 * nonce, PCR 23) and connects pinned to its certificate; then a replayed binding and an impostor
 * certificate are refused, and logout stops the enclave.
 *
 * @module
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { createServer, type TLSSocket } from "node:tls";
import { isKeywardError } from "@keyward/attest/errors";
import { parsePemCertificates, toPem } from "@keyward/attest/x509";
import { readTextBounded } from "@keyward/platform/io";
import { initSimPlatform } from "@keyward/platform/sim";
import { provisionSwtpm, type Swtpm, startSwtpm } from "@keyward/platform/tpm";
import { buildCertificate } from "@keyward/platform/x509";
import { createLogger, loadServiceConfig, runService } from "@keyward/server";
import { connectPinned, LicensingClient, trustAk, verifyBinding } from "@keyward/server/licensing-client";

const codeOf = (e: unknown) => (isKeywardError(e) ? e.code : String(e));

/** Runs the licensing demo, reporting each step through `say` and each verdict through `check`. */
export async function licensingDemo(
  say: (line: string) => void,
  check: (ok: boolean, line: string) => void,
): Promise<void> {
  say("Licensing: sign-up to a pinned connection, the local launcher, swtpm as the server's TPM:");
  const home = mkdtempSync(join(tmpdir(), "keyward-demo-licensing-"));
  let tpm: Swtpm | undefined;
  let rootCaPem: string | undefined;
  const flags: Record<string, string | boolean> = {
    listen: "127.0.0.1:0",
    simulation: true,
    "licensing-listen": "127.0.0.1:0",
    "licensing-trial": "licensed-app:3600:1:pro",
  };
  try {
    initSimPlatform(join(home, "sim"), { now: new Date() });
    try {
      const made = provisionSwtpm(join(home, "swtpm"), join(home, "swtpm-ca"));
      tpm = await startSwtpm({ stateDir: made.stateDir });
      rootCaPem = made.rootCaPem;
      writeFileSync(join(home, "ek-issuer.pem"), made.issuerCaPem);
      flags["licensing-tpm"] = tpm.uri;
      flags["licensing-ek-chain"] = join(home, "ek-issuer.pem");
      say(`  swtpm manufactured with an EK certificate (private CA) at ${tpm.uri}`);
    } catch (e) {
      say(
        `  swtpm is not available (${codeOf(e)}): the TPM binding is skipped (scripts/system-deps.sh installs it)`,
      );
    }
    const config = loadServiceConfig(home, flags, {});
    const service = await runService(config, createLogger(new Writable({ write: (_c, _e, cb) => cb() })));
    try {
      const port = service.ports.licensingPort ?? 0;
      const caPem = readTextBounded(join(home, "licensing", "tls.crt"), {
        kind: "certificate",
        what: "licensing CA",
      });
      const client = new LicensingClient({ host: "127.0.0.1", port, caPem });
      const password = randomBytes(18).toString("base64url");
      await client.signUp("demo-user", password);
      check(true, "sign-up: demo-user (password hashed with argon2id, peppered)");
      await client.login("demo-user", password);
      check(true, "login: EdDSA access token and a rotating refresh token");
      const [licence] = await client.licences();
      check(
        licence?.status === "active",
        `licence: ${licence?.product} (${licence?.status}, max ${licence?.maxEnclaves} enclave)`,
      );
      const enclave = await client.launch(licence?.id ?? "");
      check(
        enclave.state === "ready",
        `launch: enclave ${enclave.id.slice(0, 8)}… at ${enclave.host}:${enclave.port}`,
      );
      say(`    its certificate (made inside the enclave) SHA-256 ${enclave.certificateSha256.slice(0, 16)}…`);
      if (rootCaPem !== undefined) {
        const c = await client.connect(enclave.id, { kind: "ek", roots: parsePemCertificates(rootCaPem) });
        check(
          Buffer.from(c.certificateSha256).toString("hex") === enclave.certificateSha256,
          "binding verified: EK certificate → manufacturer root, AK activated, quote for our nonce, PCR 23 = the certificate",
        );
        const answer = await getOver(c.socket, "/hello");
        check(
          answer.status === 200 && answer.body.includes("hello demo-user"),
          `pinned TLS connection answered: ${answer.body}`,
        );
        // Attacks.
        const nonce = new Uint8Array(randomBytes(32));
        const b = await client.binding(enclave.id, nonce);
        const ak = await trustAk(
          b.akPublic,
          b.ekCertificates,
          { kind: "ek", roots: parsePemCertificates(rootCaPem), activate: (x, y) => client.activateAk(x, y) },
          new Date(),
        );
        try {
          verifyBinding(b, ak, new Uint8Array(randomBytes(32)));
          check(false, "a binding replayed for another nonce was accepted");
        } catch (e) {
          check(
            codeOf(e) === "ERR_TPM_EXTRA_DATA_MISMATCH",
            `a binding replayed for another nonce: refused (${codeOf(e)})`,
          );
        }
        const impostor = await impostorServer();
        try {
          await connectPinned("127.0.0.1", impostor.port, b.certificate);
          check(false, "an endpoint with another certificate was accepted");
        } catch (e) {
          check(
            codeOf(e) === "ERR_LICENSING_BINDING_MISMATCH" && impostor.received() === 0,
            `an endpoint presenting another certificate: refused before any byte (${codeOf(e)})`,
          );
        } finally {
          impostor.close();
        }
      }
      const stopped = await client.logout();
      check(stopped === 1, `logout: session revoked, ${stopped} enclave stopped`);
    } finally {
      await service.shutdown();
    }
  } finally {
    await tpm?.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

function getOver(socket: TLSSocket, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { createConnection: () => socket, path, method: "GET", headers: { host: "enclave" } },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          body += d;
        });
        res.on("end", () => {
          socket.destroy();
          resolve({ status: res.statusCode ?? 0, body });
        });
      },
    );
    req.on("error", reject);
    req.end();
  });
}

async function impostorServer(): Promise<{ port: number; received: () => number; close: () => void }> {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const der = buildCertificate({
    serial: Uint8Array.of(1, ...randomBytes(8)),
    subject: [["CN", "impostor"]],
    issuer: [["CN", "impostor"]],
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 3_600_000),
    publicKey,
    signingKey: privateKey,
  });
  let received = 0;
  const server = createServer(
    { key: privateKey.export({ type: "pkcs8", format: "pem" }), cert: toPem(der, "CERTIFICATE") },
    (s) => {
      s.on("data", (d: Buffer) => {
        received += d.byteLength;
      });
      s.on("error", () => undefined);
    },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    received: () => received,
    close: () => server.close(),
  };
}
