/**
 * The KBS feature: Confidential Containers' Key Broker Service protocol (Trustee's RCAR
 * attestation protocol, version 0.4.0) on a listener of its own (`--kbs-listen`), so that an
 * unchanged CoCo guest (attestation-agent / confidential-data-hub with a `kbs` or `cc_kbc`
 * configuration) fetches Keyward secrets as KBS resources. Resources are secrets granted under
 * the name `<repository>/<type>/<tag>`; sessions live in the store (any replica serves any step);
 * every release goes through the gate and the audit log. See docs/kbs.md.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { KeywardError } from "@keyward/attest/errors";
import type { Feature, FeatureContext, FeatureRuntime } from "../../kernel/feature.ts";
import { listenOn } from "../../kernel/listening.ts";
import { createKbsServer, sendProblem } from "./http.ts";
import { KBS_LISTEN, KBS_OPTIONS, KBS_TOKEN_TTL, kbsCredential } from "./options.ts";
import { type KbsPhase, problemOf } from "./problems.ts";
import { type KbsHandlers, kbsHandlers } from "./service.ts";
import { KBS_MIGRATIONS, KbsSessions } from "./sessions.ts";

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/** `/kbs/v0/resource/<repository>/<type>/<tag>` → the three segments. @throws ERR_KBS_RESOURCE_PATH */
export function resourcePathOf(pathname: string): readonly string[] {
  const parts = pathname.slice("/kbs/v0/resource/".length).split("/");
  let decoded: string[];
  try {
    decoded = parts.map((p) => decodeURIComponent(p));
  } catch {
    decoded = [];
  }
  if (decoded.length !== 3 || !decoded.every((s) => SEGMENT.test(s)))
    throw new KeywardError(
      "ERR_KBS_RESOURCE_PATH",
      "a resource is /kbs/v0/resource/<repository>/<type>/<tag> (letters, digits, '.', '_', '-')",
    );
  return decoded;
}

function route(handlers: KbsHandlers) {
  return async (req: IncomingMessage, res: ServerResponse, phase: { value: KbsPhase }) => {
    const pathname = new URL(req.url ?? "/", "http://kbs").pathname;
    if (pathname === "/kbs/v0/auth" && req.method === "POST") return handlers.auth(req, res);
    if (pathname === "/kbs/v0/attest" && req.method === "POST") {
      phase.value = "attest";
      return handlers.attest(req, res);
    }
    if (pathname.startsWith("/kbs/v0/resource/")) {
      phase.value = "resource";
      if (req.method !== "GET")
        throw new KeywardError(
          "ERR_KBS_RESOURCE_PATH",
          "resources are read-only here: put secrets with `keyward admin put-secret`",
        );
      return handlers.resource(req, res, resourcePathOf(pathname));
    }
    throw new KeywardError(
      "ERR_KBS_RESOURCE_PATH",
      `no KBS endpoint ${req.method} ${pathname.slice(0, 128)}`,
    );
  };
}

function start(ctx: FeatureContext): FeatureRuntime {
  const listen = ctx.config.options.get(KBS_LISTEN);
  if (listen === undefined) return {};
  const credential = kbsCredential(ctx.config.options, ctx.trust.credential);
  if (credential === undefined)
    ctx.logger.warn({ event: "kbs.insecure" }, "the KBS listener serves plain HTTP (--kbs-insecure-http)");
  const sessions = new KbsSessions(ctx.store.sql);
  const handle = route(
    kbsHandlers(ctx, {
      sessions,
      tokenTtlSeconds: ctx.config.options.get(KBS_TOKEN_TTL),
      secure: credential !== undefined,
    }),
  );
  const sweeper = setInterval(() => void sessions.sweep(ctx.now().getTime()).catch(() => undefined), 60_000);
  sweeper.unref();
  return {
    services: [
      {
        listener: "own",
        name: "kbsPort",
        start: () =>
          listenOn(
            createKbsServer(
              credential,
              async (req, res) => {
                const phase = { value: "auth" as KbsPhase };
                try {
                  await handle(req, res, phase);
                } catch (e) {
                  const problem = problemOf(e, phase.value);
                  if (problem.status >= 500)
                    ctx.logger.error(
                      {
                        event: "kbs.failed",
                        phase: phase.value,
                        code: problem.code,
                        error: (e as Error)?.message,
                      },
                      "KBS request failed",
                    );
                  else
                    ctx.logger.warn(
                      {
                        event: "kbs.refused",
                        phase: phase.value,
                        code: problem.code,
                        status: problem.status,
                      },
                      problem.detail,
                    );
                  sendProblem(res, problem);
                }
              },
              (_e, _req, res) =>
                sendProblem(res, problemOf(new KeywardError("ERR_INTERNAL", "internal error"), "auth")),
            ),
            listen,
          ),
      },
    ],
    close: async () => clearInterval(sweeper),
  };
}

export const kbsFeature: Feature = {
  name: "kbs",
  migrations: KBS_MIGRATIONS,
  options: KBS_OPTIONS,
  start,
};
