/**
 * The client side of the service benchmark, run in worker threads so that the clients' TLS and
 * gRPC work does not share the service's thread. Receives {dir, port, clients, seconds, op, kind};
 * posts `{ ready }` once its clients are connected and warm, starts measuring when the benchmark
 * answers (every worker at once), and replies with every request's latency in milliseconds.
 *
 * kind "connect": each client is a Connect-ES gRPC client, as an application would use.
 * kind "lean": each client sends the same gRPC call on a raw HTTP/2 stream (one pre-encoded
 *   message, status read from the trailers): a cheap load generator, like ghz or h2load, so that
 *   the figure measures the service rather than the clients sharing its machine.
 */
import type { ClientHttp2Session } from "node:http2";
import { join } from "node:path";
import { parentPort, workerData } from "node:worker_threads";
import { create, toBinary } from "@bufbuild/protobuf";
import { connectRaTlsHttp2 } from "@keyward/channels/http";
import { loadSimPlatform, type SimPlatform } from "@keyward/platform/sim";
import { DecryptRequestSchema, GetSecretsRequestSchema, SignRequestSchema } from "@keyward/proto/keyward/v1";
import { clientAs, kmsClientAs, simulatedCaller } from "../../packages/server/test/service/helpers.ts";

interface Job {
  readonly dir: string;
  readonly port: number;
  readonly clients: number;
  readonly seconds: number;
  readonly op: "release" | "sign" | "decrypt";
  readonly kind: "connect" | "lean";
  readonly ciphertext?: Uint8Array;
}

const job = workerData as Job;
const platform = loadSimPlatform(join(job.dir, "sim"));
const message = new Uint8Array(32);

async function leanSession(p: SimPlatform): Promise<ClientHttp2Session> {
  const { credential, peerVerifier } = await simulatedCaller(p, 0xc1);
  const { session } = await connectRaTlsHttp2({
    host: "127.0.0.1",
    port: job.port,
    credential,
    peerVerifier,
  });
  return session;
}

function framed(bytes: Uint8Array): Buffer {
  const b = Buffer.alloc(5 + bytes.byteLength);
  b.writeUInt32BE(bytes.byteLength, 1);
  b.set(bytes, 5);
  return b;
}

const LEAN = {
  release: {
    path: "/keyward.v1.SecretProvisioningService/GetSecrets",
    body: () => framed(toBinary(GetSecretsRequestSchema, create(GetSecretsRequestSchema, {}))),
  },
  sign: {
    path: "/keyward.v1.KeyManagementService/Sign",
    body: () => framed(toBinary(SignRequestSchema, create(SignRequestSchema, { keyId: "p256", message }))),
  },
  decrypt: {
    path: "/keyward.v1.KeyManagementService/Decrypt",
    body: () =>
      framed(
        toBinary(
          DecryptRequestSchema,
          create(DecryptRequestSchema, { keyId: "aes", ciphertext: job.ciphertext ?? new Uint8Array() }),
        ),
      ),
  },
};

function leanCall(session: ClientHttp2Session, path: string, body: Buffer): () => Promise<void> {
  return () =>
    new Promise((resolve, reject) => {
      const req = session.request({
        ":method": "POST",
        ":path": path,
        "content-type": "application/grpc",
        te: "trailers",
      });
      let status: unknown;
      req.on("trailers", (t) => {
        status = t["grpc-status"];
      });
      req.on("data", () => undefined);
      req.on("end", () => (status === "0" ? resolve() : reject(new Error(`grpc-status ${String(status)}`))));
      req.on("error", reject);
      req.end(body);
    });
}

const calls: (() => Promise<unknown>)[] = await Promise.all(
  Array.from({ length: job.clients }, async () => {
    if (job.kind === "lean") {
      const { path, body } = LEAN[job.op];
      return leanCall(await leanSession(platform), path, body());
    }
    if (job.op === "release") {
      const c = await clientAs(platform, job.port, 0xc1);
      return () => c.getSecrets({});
    }
    const k = await kmsClientAs(platform, job.port, 0xc1);
    return job.op === "sign"
      ? () => k.sign({ keyId: "p256", message })
      : () => k.decrypt({ keyId: "aes", ciphertext: job.ciphertext ?? new Uint8Array() });
  }),
);
for (const call of calls) await call(); // handshakes outside the measurement
// One second of load before measuring, so that the JIT and caches are warm (as in any benchmark).
const warm = performance.now() + 1000;
await Promise.all(
  calls.map(async (call) => {
    while (performance.now() < warm) await call();
  }),
);
// The barrier: every worker has its clients connected and warm before any starts measuring, so
// that no worker measures while another is still handshaking (which inflated the figures).
await new Promise<void>((resolve) => {
  parentPort?.once("message", () => resolve());
  parentPort?.postMessage({ ready: true });
});
const lat: number[] = [];
const start = performance.now();
const end = start + job.seconds * 1000;
await Promise.all(
  calls.map(async (call) => {
    while (performance.now() < end) {
      const t = performance.now();
      await call();
      lat.push(performance.now() - t);
    }
  }),
);
parentPort?.postMessage({ lat, elapsed: (performance.now() - start) / 1000 });
process.exit(0);
