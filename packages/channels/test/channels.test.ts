import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { AddressInfo } from "node:net";
import { after, describe, it } from "node:test";
import { type Server, type TLSSocket, connect as tlsConnect } from "node:tls";
import { fileURLToPath } from "node:url";
import { createClient } from "@connectrpc/connect";
import {
  createGramineSecretProvisionServer,
  SECRET_PROVISION_REQUEST,
  SECRET_PROVISION_RESPONSE,
} from "@keyward/channels/gramine";
import { createRaTlsGrpcTransport } from "@keyward/channels/grpc";
import {
  connectRaTlsHttp2,
  createRaTlsHttp2Server,
  createRaTlsHttpsServer,
  peerOfRequest,
  raTlsHttpsRequest,
} from "@keyward/channels/http";
import { connectRaTls, createRaTlsServer } from "@keyward/channels/tls";
import { PeerIdentityService } from "@keyward/proto/keyward/v1";
import { enclaveCredential, measurement, newPlatform, verifierFor } from "./fixture.ts";

const platform = newPlatform();
const serverCred = await enclaveCredential(platform, 0xa1);
const clientCred = await enclaveCredential(platform, 0xc1);
const servers: Server[] = [];
after(() => {
  for (const s of servers) s.close();
});
const listen = async (s: Server): Promise<number> => {
  servers.push(s);
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  s.unref(); // open test connections must not keep the process alive
  return (s.address() as AddressInfo).port;
};

describe("RA-TLS channels over real sockets", () => {
  it("mutual RA-TLS over node:tls: each side sees the other's verified claims", async () => {
    const seen: string[] = [];
    const port = await listen(
      createRaTlsServer(
        { credential: serverCred, peerVerifier: verifierFor(platform, [0xc1]) },
        (socket, peer) => {
          seen.push(
            peer?.verified.claims.tee === "sgx"
              ? Buffer.from(peer.verified.claims.mrEnclave).toString("hex")
              : "",
          );
          socket.on("data", (d: Buffer) => socket.end(`pong:${d.toString()}`));
        },
      ),
    );
    const { socket, peer } = await connectRaTls({
      host: "127.0.0.1",
      port,
      peerVerifier: verifierFor(platform, [0xa1]),
      credential: clientCred,
    });
    assert.ok(
      peer.verified.claims.tee === "sgx" &&
        Buffer.from(peer.verified.claims.mrEnclave).equals(Buffer.from(measurement(0xa1))),
    );
    socket.write("ping");
    const reply = await new Promise<string>((resolve) =>
      socket.once("data", (d: Buffer) => resolve(d.toString())),
    );
    socket.destroy();
    assert.equal(reply, "pong:ping");
    assert.deepEqual(seen, [Buffer.from(measurement(0xc1)).toString("hex")]);
  });

  it("a client refuses a server whose measurement is not in its policy, before sending anything", async () => {
    let received = 0;
    let closed!: () => void;
    const done = new Promise<void>((resolve) => {
      closed = resolve;
    });
    const server = createRaTlsServer({ credential: serverCred }, (socket) => {
      socket.on("data", (d: Buffer) => {
        received += d.length;
      });
      socket.on("error", () => undefined);
    });
    server.on("connection", (raw) => raw.on("close", () => closed()));
    const port = await listen(server);
    await assert.rejects(
      connectRaTls({ host: "127.0.0.1", port, peerVerifier: verifierFor(platform, [0xee]) }),
      { code: "ERR_RATLS_POLICY_REJECTED" },
    );
    await done;
    assert.equal(received, 0);
  });

  it("a server refuses a client without evidence, or with another measurement; its handler never runs", async () => {
    let handled = 0;
    const port = await listen(
      createRaTlsServer(
        { credential: serverCred, peerVerifier: verifierFor(platform, [0xc1]) },
        () => handled++,
      ),
    );
    const stranger = await enclaveCredential(platform, 0xbb);
    for (const credential of [undefined, stranger]) {
      const socket: TLSSocket = tlsConnect({
        host: "127.0.0.1",
        port,
        rejectUnauthorized: false,
        ...(credential === undefined ? {} : { key: credential.keyPem, cert: credential.certificatePem }),
      });
      await new Promise<void>((resolve) => socket.once("secureConnect", () => resolve()));
      socket.write("anything");
      await new Promise<void>((resolve) => socket.once("close", () => resolve()));
    }
    assert.equal(handled, 0);
  });

  it("shares one verification among concurrent handshakes, and caches it", async () => {
    const counter = { calls: 0 };
    const verifier = verifierFor(platform, [0xa1], counter);
    const port = await listen(
      createRaTlsServer({ credential: serverCred }, (socket) => socket.on("error", () => undefined)),
    );
    const conns = await Promise.all(
      Array.from({ length: 5 }, () => connectRaTls({ host: "127.0.0.1", port, peerVerifier: verifier })),
    );
    for (const c of conns) c.socket.destroy();
    await connectRaTls({ host: "127.0.0.1", port, peerVerifier: verifier }).then((c) => c.socket.destroy());
    assert.equal(counter.calls, 1);
    assert.equal(verifier.size, 1);
  });

  it("serves a Gramine client its secret with the documented framing, and nothing to others", async () => {
    const secret = new TextEncoder().encode("the-provisioned-key");
    const port = await listen(
      createGramineSecretProvisionServer({
        credential: serverCred,
        peerVerifier: verifierFor(platform, [0xc1]),
        secretFor: () => secret,
      }),
    );
    const fetchSecret = async (cred: { keyPem: string; certificatePem: string }): Promise<Buffer> => {
      const socket = tlsConnect({
        host: "127.0.0.1",
        port,
        rejectUnauthorized: false,
        key: cred.keyPem,
        cert: cred.certificatePem,
      });
      await new Promise<void>((resolve) => socket.once("secureConnect", () => resolve()));
      socket.write(SECRET_PROVISION_REQUEST);
      const chunks: Buffer[] = [];
      socket.on("data", (d: Buffer) => chunks.push(d));
      await new Promise<void>((resolve) => socket.once("close", () => resolve()));
      return Buffer.concat(chunks);
    };
    const response = await fetchSecret(clientCred);
    assert.equal(SECRET_PROVISION_REQUEST.byteLength, 35);
    assert.equal(SECRET_PROVISION_RESPONSE.byteLength, 37);
    assert.deepEqual(response.subarray(0, 37), Buffer.from(SECRET_PROVISION_RESPONSE));
    assert.equal(response.readUInt32BE(37), secret.byteLength);
    assert.deepEqual(response.subarray(41), Buffer.from(secret));
    assert.equal((await fetchSecret(await enclaveCredential(platform, 0x99))).length, 0);
  });

  it("HTTPS and HTTP/2: handlers run for verified callers only, and see their claims", async () => {
    let handled = 0;
    const hex = (v: number) => Buffer.from(measurement(v)).toString("hex");
    const httpsPort = await listen(
      createRaTlsHttpsServer(
        { credential: serverCred, peerVerifier: verifierFor(platform, [0xc1]) },
        (_req, res, peer) => {
          handled++;
          res.end(
            peer?.verified.claims.tee === "sgx"
              ? Buffer.from(peer.verified.claims.mrEnclave).toString("hex")
              : "",
          );
        },
      ) as unknown as Server,
    );
    const r = await raTlsHttpsRequest(
      {
        host: "127.0.0.1",
        port: httpsPort,
        peerVerifier: verifierFor(platform, [0xa1]),
        credential: clientCred,
      },
      { path: "/", method: "GET" },
    );
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), hex(0xc1));
    await assert.rejects(
      raTlsHttpsRequest(
        {
          host: "127.0.0.1",
          port: httpsPort,
          peerVerifier: verifierFor(platform, [0xa1]),
          credential: await enclaveCredential(platform, 0x42),
        },
        { path: "/" },
      ),
    );
    assert.equal(handled, 1);

    const h2Port = await listen(
      createRaTlsHttp2Server(
        { credential: serverCred, peerVerifier: verifierFor(platform, [0xc1]) },
        (req, res) => {
          const peer = peerOfRequest(req);
          res.end(
            peer?.verified.claims.tee === "sgx"
              ? Buffer.from(peer.verified.claims.mrEnclave).toString("hex")
              : "none",
          );
        },
      ) as unknown as Server,
    );
    const { session } = await connectRaTlsHttp2({
      host: "127.0.0.1",
      port: h2Port,
      peerVerifier: verifierFor(platform, [0xa1]),
      credential: clientCred,
    });
    const stream = session.request({ ":path": "/" });
    let text = "";
    stream.on("data", (d: Buffer) => {
      text += d.toString();
    });
    await new Promise<void>((resolve) => stream.on("end", () => resolve()));
    session.close();
    assert.equal(text, hex(0xc1));
  });

  it("mutual gRPC over RA-TLS between two processes: the handler sees the caller's claims", async () => {
    const fixture = fileURLToPath(new URL("./grpc-server.fixture.ts", import.meta.url));
    const child = spawn(process.execPath, ["--disable-warning=ExperimentalWarning", fixture, platform.dir], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        child.stdout.once("data", (d: Buffer) => resolve(Number(d.toString().trim())));
        child.once("exit", () => reject(new Error("server exited")));
      });
      const { transport, peer } = await createRaTlsGrpcTransport({
        host: "127.0.0.1",
        port,
        peerVerifier: verifierFor(platform, [0xa2]),
        credential: clientCred,
      });
      assert.equal(peer.verified.platform, "simulated");
      const client = createClient(PeerIdentityService, transport);
      const me = await client.whoAmI({});
      assert.equal(Buffer.from(me.mrEnclave).toString("hex"), Buffer.from(measurement(0xc1)).toString("hex"));
      assert.equal(me.platform, "simulated");
      assert.equal(me.evidenceFormat, "tcg-dice");
      // A client whose credential the server's policy does not accept gets no answer.
      const other = await createRaTlsGrpcTransport({
        host: "127.0.0.1",
        port,
        peerVerifier: verifierFor(platform, [0xa2]),
        credential: await enclaveCredential(platform, 0x77),
      });
      await assert.rejects(createClient(PeerIdentityService, other.transport).whoAmI({}));
    } finally {
      child.kill();
    }
  });
});
