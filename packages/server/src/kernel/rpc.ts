/**
 * How a feature's gRPC services are served: a feature gives its service descriptor and its unary
 * methods, each taking the request and the {@link Call} (who is calling); the kernel registers
 * them on the listener they name — with the error mapping applied to every method (errors/) and,
 * on the service listener, the lean unary gRPC path beside Connect.
 *
 * @module
 */
import type { Http2ServerRequest } from "node:http2";
import type { DescMessage, DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import { createContextKey } from "@connectrpc/connect";
import type { RaTlsVerdict } from "@keyward/attest/ratls";
import { peerIdentityKey, requestOriginKey, type UnaryRoutes, unaryRoutes } from "@keyward/channels/grpc";
import { toConnectError } from "../errors/connect.ts";
import type { RequestObserver } from "./requests.ts";

/** The listeners the kernel runs. */
export type ListenerKind = "service" | "challenge" | "admin";

/** Who is calling, as the listener established it. */
export interface Call {
  /** The caller's verified RA-TLS evidence (service listener), when it presented any. */
  readonly peer: RaTlsVerdict | undefined;
  /** The operator (admin listener), from its verified admin client certificate. */
  readonly operator: string | undefined;
  readonly headers: Headers;
  /** The client's network address, as the listener's socket saw it. */
  readonly clientAddress?: string | undefined;
}

/** Unary method implementations of service `S`, each given the request and the call. */
export type UnaryMethods<S extends DescService> = {
  readonly [M in keyof S["method"]]: S["method"][M] extends { input: infer I; output: infer O }
    ? I extends DescMessage
      ? O extends DescMessage
        ? (request: MessageShape<I>, call: Call) => Promise<MessageInitShape<O>>
        : never
      : never
    : never;
};

/** A gRPC service a feature serves, and on which listener. */
export interface RpcService {
  readonly listener: ListenerKind;
  readonly service: DescService;
  readonly methods: Readonly<Record<string, (request: never, call: Call) => Promise<unknown>>>;
}

/** Declares a feature's service on `listener` (typed against the descriptor). */
export function rpcService<S extends DescService>(
  listener: ListenerKind,
  service: S,
  methods: UnaryMethods<S>,
): RpcService {
  return { listener, service, methods: methods as unknown as RpcService["methods"] };
}

/** Where the admin listener puts the operator for handlers. */
export const operatorKey = createContextKey<string | undefined>(undefined, { description: "admin operator" });

// The lean path's headers, converted only when a handler reads them (most never do).
function leanCall(peer: RaTlsVerdict | undefined, http: Http2ServerRequest): Call {
  let headers: Headers | undefined;
  return {
    peer,
    operator: undefined,
    get headers() {
      if (headers === undefined) {
        headers = new Headers();
        for (const [k, v] of Object.entries(http.headers))
          if (!k.startsWith(":") && v !== undefined) headers.set(k, Array.isArray(v) ? v.join(", ") : v);
      }
      return headers;
    },
    clientAddress: http.socket?.remoteAddress,
  };
}

type Run = (request: never, call: Call) => Promise<unknown>;

/** Where a listener's methods are observed (one log line and metrics per request: requests.ts). */
export interface Observed {
  readonly listener: ListenerKind;
  readonly requests: RequestObserver;
}

// Every method: observed (its request line and metrics), then errors mapped to gRPC statuses.
const mapped = (run: Run, method: string, observed: Observed | undefined) => {
  const call = async (request: unknown, call: Call): Promise<unknown> => {
    try {
      return await run(request as never, call);
    } catch (e) {
      throw toConnectError(e);
    }
  };
  if (observed === undefined) return call;
  const { listener, requests } = observed;
  return async (request: unknown, c: Call): Promise<unknown> => {
    try {
      // The observer sees the handler's own error (its Keyward code goes into the request line);
      // the mapping to a gRPC status comes after it.
      return await requests.observe({ listener, method, headers: c.headers, operator: c.operator }, () =>
        run(request as never, c),
      );
    } catch (e) {
      throw toConnectError(e);
    }
  };
};

/** Registers `services` with Connect, every method observed and behind the error mapping. */
export function connectRoutes(
  services: readonly RpcService[],
  observed?: Observed,
): (router: ConnectRouter) => void {
  return (router) => {
    for (const s of services) {
      const impl: Record<string, (req: unknown, ctx: HandlerContext) => Promise<unknown>> = {};
      for (const [name, run] of Object.entries(s.methods)) {
        const m = mapped(run, methodName(s.service, name), observed);
        impl[name] = (req, ctx) =>
          m(req, {
            peer: ctx.values.get(peerIdentityKey),
            operator: ctx.values.get(operatorKey),
            headers: ctx.requestHeader,
            clientAddress: ctx.values.get(requestOriginKey).clientAddress,
          });
      }
      router.service(s.service, impl as never);
    }
  };
}

// `keyward.v1.Secrets/GetSecrets`: the gRPC path without its leading slash.
function methodName(service: DescService, localName: string): string {
  const m = service.methods.find((x) => x.localName === localName);
  return `${service.typeName}/${m?.name ?? localName}`;
}

/** The lean unary gRPC routes of `services` (the service listener's hot path), observed. */
export function leanRoutes(services: readonly RpcService[], observed?: Observed): UnaryRoutes {
  const routes = new Map<string, ReturnType<typeof unaryRoutes> extends Map<string, infer R> ? R : never>();
  for (const s of services) {
    const impl: Record<
      string,
      (req: unknown, peer: RaTlsVerdict | undefined, http: Http2ServerRequest) => Promise<unknown>
    > = {};
    for (const [name, run] of Object.entries(s.methods)) {
      const m = mapped(run, methodName(s.service, name), observed);
      impl[name] = (req, peer, http) => m(req, leanCall(peer, http));
    }
    for (const [path, route] of unaryRoutes(s.service, impl as never)) routes.set(path, route);
  }
  return routes;
}
