/**
 * A lean path for unary gRPC calls (`application/grpc`, identity encoding) on the RA-TLS HTTP/2
 * server: one length-prefixed message in, one out, status in trailers. The hot calls of the service
 * (GetSecrets, KMS operations) take it; everything else — other content types (Connect, JSON),
 * compressed messages, streaming methods — goes to the Connect handler as before.
 *
 * Why: under load the general Connect pipeline (async iterables, abort signals, header conversion)
 * cost more CPU per call than the service's own work. This path does only what a unary gRPC call
 * needs, on the same verified connection, with the same message schemas and error mapping.
 *
 * @module
 */
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import {
  create,
  type DescMessage,
  type DescService,
  fromBinary,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import type { ConnectError } from "@connectrpc/connect";
import type { RaTlsVerdict } from "@keyward/attest/ratls";

/**
 * One unary method's implementation, given the caller's verified identity and the HTTP/2 request
 * (its headers — e.g. a one-time code — and its socket's address; read them only when needed).
 */
export type UnaryImpl<I extends DescMessage, O extends DescMessage> = (
  request: MessageShape<I>,
  peer: RaTlsVerdict | undefined,
  http: Http2ServerRequest,
) => Promise<MessageInitShape<O>>;

interface Route {
  readonly input: DescMessage;
  readonly output: DescMessage;
  readonly run: (
    request: unknown,
    peer: RaTlsVerdict | undefined,
    http: Http2ServerRequest,
  ) => Promise<unknown>;
}

/** The routes of a gRPC path table: `/package.Service/Method` → route. */
export type UnaryRoutes = ReadonlyMap<string, Route>;

/** Routes for the unary methods of `service` that `impl` implements. */
export function unaryRoutes<S extends DescService>(
  service: S,
  impl: {
    readonly [M in keyof S["method"]]?: S["method"][M] extends { input: infer I; output: infer O }
      ? I extends DescMessage
        ? O extends DescMessage
          ? UnaryImpl<I, O>
          : never
        : never
      : never;
  },
): Map<string, Route> {
  const routes = new Map<string, Route>();
  for (const m of service.methods) {
    const run = (impl as Record<string, Route["run"] | undefined>)[m.localName];
    if (m.methodKind !== "unary" || run === undefined) continue;
    routes.set(`/${service.typeName}/${m.name}`, { input: m.input, output: m.output, run });
  }
  return routes;
}

/** Whether `req` is a call the lean path serves (else the Connect handler takes it). */
export function isLeanUnary(req: Http2ServerRequest, routes: UnaryRoutes): boolean {
  const type = req.headers["content-type"];
  const encoding = req.headers["grpc-encoding"];
  return (
    req.method === "POST" &&
    (type === "application/grpc" || type === "application/grpc+proto") &&
    (encoding === undefined || encoding === "identity") &&
    routes.has(req.url)
  );
}

/** Serves one unary call. Never throws: every failure becomes a gRPC status in the trailers. */
export function serveLeanUnary(
  req: Http2ServerRequest,
  res: Http2ServerResponse,
  routes: UnaryRoutes,
  peer: RaTlsVerdict | undefined,
  options: { readonly maxMessageBytes: number; readonly toError: (e: unknown) => ConnectError },
): void {
  const route = routes.get(req.url) as Route;
  const chunks: Buffer[] = [];
  let size = 0;
  let refused = false;
  req.on("data", (chunk: Buffer) => {
    if (refused) return;
    size += chunk.byteLength;
    if (size > options.maxMessageBytes + 5) {
      refused = true;
      fail(res, 8 /* RESOURCE_EXHAUSTED */, "ERR_SERVICE_REQUEST_INVALID: message larger than allowed");
      return;
    }
    chunks.push(chunk);
  });
  req.on("end", () => {
    if (refused) return;
    const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
    // Exactly one uncompressed, length-prefixed message.
    if (body.byteLength < 5 || body[0] !== 0 || body.readUInt32BE(1) !== body.byteLength - 5) {
      fail(
        res,
        3 /* INVALID_ARGUMENT */,
        "ERR_SERVICE_REQUEST_INVALID: not one length-prefixed gRPC message",
      );
      return;
    }
    let request: unknown;
    try {
      request = fromBinary(route.input, body.subarray(5));
    } catch {
      fail(res, 3, "ERR_SERVICE_REQUEST_INVALID: the message does not decode");
      return;
    }
    route.run(request, peer, req).then(
      (response) => {
        const bytes = toBinary(route.output, create(route.output, response as never));
        const frame = Buffer.allocUnsafe(5 + bytes.byteLength);
        frame[0] = 0;
        frame.writeUInt32BE(bytes.byteLength, 1);
        frame.set(bytes, 5);
        if (res.stream.destroyed) return;
        res.writeHead(200, { "content-type": "application/grpc" });
        res.addTrailers({ "grpc-status": "0" });
        res.end(frame);
      },
      (e: unknown) => {
        const err = options.toError(e);
        fail(res, err.code, err.rawMessage);
      },
    );
  });
  req.on("error", () => undefined); // a reset stream: nothing to answer
}

// An error: no message, the status in the trailers (grpc-message percent-encoded).
function fail(res: Http2ServerResponse, code: number, message: string): void {
  if (res.stream.destroyed || res.headersSent) return;
  res.writeHead(200, { "content-type": "application/grpc" });
  res.addTrailers({ "grpc-status": String(code), "grpc-message": encodeURIComponent(message) });
  res.end();
}
