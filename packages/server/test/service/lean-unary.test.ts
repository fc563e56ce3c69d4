/**
 * The lean unary gRPC path of the service listener, spoken to byte by byte over a verified RA-TLS
 * HTTP/2 session: well-formed calls answered, malformed and oversized ones refused with a status
 * (never a crash), and everything it does not serve left to Connect.
 */
import assert from "node:assert/strict";
import type { ClientHttp2Session } from "node:http2";
import { after, before, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { connectRaTlsHttp2 } from "@keyward/channels/http";
import { GetSecretsRequestSchema, GetSecretsResponseSchema } from "@keyward/proto/keyward/v1";
import fc from "fast-check";
import { seedPolicy, simulatedCaller, startFixture } from "./helpers.ts";

let f: Awaited<ReturnType<typeof startFixture>>;
let session: ClientHttp2Session;
const PATH = "/keyward.v1.SecretProvisioningService/GetSecrets";

before(async () => {
  f = await startFixture([seedPolicy("app", 0xd1)]);
  const { credential, peerVerifier } = await simulatedCaller(f.platform, 0xd1);
  ({ session } = await connectRaTlsHttp2({
    host: "127.0.0.1",
    port: f.service.port,
    credential,
    peerVerifier,
  }));
});
after(async () => {
  session?.close();
  await f.service.close();
  await f.store.close();
});

interface Reply {
  status: number;
  headers: Record<string, unknown>;
  trailers: Record<string, unknown>;
  body: Buffer;
}

function call(body: Uint8Array, headers: Record<string, string> = {}, path = PATH): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = session.request({
      ":method": "POST",
      ":path": path,
      "content-type": "application/grpc",
      te: "trailers",
      ...headers,
    });
    const chunks: Buffer[] = [];
    let head: Record<string, unknown> = {};
    let trailers: Record<string, unknown> = {};
    req.on("response", (h) => {
      head = h;
    });
    req.on("trailers", (t) => {
      trailers = t;
    });
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () =>
      resolve({ status: Number(head[":status"]), headers: head, trailers, body: Buffer.concat(chunks) }),
    );
    req.on("error", reject);
    req.end(body);
  });
}

const frame = (message: Uint8Array, flag = 0, declared = message.byteLength) => {
  const b = Buffer.alloc(5 + message.byteLength);
  b[0] = flag;
  b.writeUInt32BE(declared, 1);
  b.set(message, 5);
  return b;
};
const grpcStatus = (r: Reply) => String(r.trailers["grpc-status"] ?? r.headers["grpc-status"]);
const grpcMessage = (r: Reply) =>
  decodeURIComponent(String(r.trailers["grpc-message"] ?? r.headers["grpc-message"] ?? ""));

describe("the lean unary gRPC path", () => {
  it("answers a well-formed call with one length-prefixed message and status 0", async () => {
    const r = await call(frame(toBinary(GetSecretsRequestSchema, create(GetSecretsRequestSchema, {}))));
    assert.equal(r.status, 200);
    assert.equal(grpcStatus(r), "0");
    assert.equal(r.body.readUInt32BE(1), r.body.byteLength - 5);
    const msg = fromBinary(GetSecretsResponseSchema, r.body.subarray(5));
    assert.equal(msg.policyId, "app");
    assert.equal(new TextDecoder().decode(msg.secrets[0]?.value), "s3cr3t-image-key");
  });

  it("refuses malformed frames and messages with INVALID_ARGUMENT and a Keyward code", async () => {
    const valid = toBinary(
      GetSecretsRequestSchema,
      create(GetSecretsRequestSchema, { names: ["master_key"] }),
    );
    for (const [what, body] of [
      ["no prefix", Buffer.from("abc")],
      ["empty body", Buffer.alloc(0)],
      ["compressed flag without an encoding", frame(valid, 1)],
      ["length larger than the body", frame(valid, 0, valid.byteLength + 10)],
      ["two messages", Buffer.concat([frame(valid), frame(valid)])],
      ["bytes that are not a GetSecretsRequest", frame(Uint8Array.of(0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f))],
    ] as const) {
      const r = await call(body);
      assert.equal(grpcStatus(r), "3", what);
      assert.match(grpcMessage(r), /^ERR_SERVICE_REQUEST_INVALID: /, what);
    }
  });

  it("refuses every truncation of a well-formed call (INVALID_ARGUMENT)", async () => {
    const whole = frame(
      toBinary(GetSecretsRequestSchema, create(GetSecretsRequestSchema, { names: ["master_key"] })),
    );
    for (let n = 0; n < whole.byteLength; n++) {
      const r = await call(whole.subarray(0, n));
      assert.equal(grpcStatus(r), "3", `truncated to ${n} bytes`);
      assert.match(grpcMessage(r), /^ERR_SERVICE_REQUEST_INVALID: /);
    }
  });

  it("refuses an oversized message with RESOURCE_EXHAUSTED, and keeps serving", async () => {
    const r = await call(frame(new Uint8Array(2 << 20)));
    assert.equal(grpcStatus(r), "8");
    const ok = await call(frame(toBinary(GetSecretsRequestSchema, create(GetSecretsRequestSchema, {}))));
    assert.equal(grpcStatus(ok), "0");
  });

  it("maps service refusals to their gRPC codes (PERMISSION_DENIED for an ungranted name)", async () => {
    const r = await call(
      frame(toBinary(GetSecretsRequestSchema, create(GetSecretsRequestSchema, { names: ["not-granted"] }))),
    );
    assert.equal(grpcStatus(r), "7");
    assert.match(grpcMessage(r), /^ERR_SERVICE_DENIED: /);
  });

  it("answers every random body with a status, never a crash (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 64 }),
          fc.uint8Array({ maxLength: 64 }).map((m) => new Uint8Array(frame(m))),
        ),
        async (body) => {
          const r = await call(body);
          assert.equal(r.status, 200);
          assert.match(grpcStatus(r), /^(0|3|7|5)$/);
        },
      ),
      { numRuns: 150 },
    );
    const ok = await call(frame(toBinary(GetSecretsRequestSchema, create(GetSecretsRequestSchema, {}))));
    assert.equal(grpcStatus(ok), "0");
  });

  it("leaves other protocols, encodings and methods to Connect", async () => {
    const json = await call(Buffer.from("{}"), { "content-type": "application/json" });
    assert.equal(json.status, 200);
    assert.equal(JSON.parse(json.body.toString()).policyId, "app");
    const unknown = await call(frame(new Uint8Array()), {}, "/keyward.v1.SecretProvisioningService/Nope");
    assert.notEqual(grpcStatus(unknown), "0");
    // A gzip-compressed call is not the lean path's: Connect decompresses and answers it.
    const message = toBinary(
      GetSecretsRequestSchema,
      create(GetSecretsRequestSchema, { names: ["master_key"] }),
    );
    const gzip = await call(frame(new Uint8Array(gzipSync(message)), 1), { "grpc-encoding": "gzip" });
    assert.equal(grpcStatus(gzip), "0");
  });
});
