/**
 * The attester of an app running under the simulated launcher: requests go over the private
 * channel (fd 3) the launcher handed down.
 *
 * @module
 */
import { Socket } from "node:net";
import { fromHex, toHex } from "@keyward/attest/bytes";
import { parseDcapQuote, sgxClaimsOf } from "@keyward/attest/dcap";
import { type ErrorCode, isErrorCode, KeywardError } from "@keyward/attest/errors";
import type { WorkloadClaims } from "@keyward/attest/evidence";
import type { Attester, Evidence, SealKeyRequest } from "../attester/attester.ts";
import { CHANNEL_FD, type ChannelResponse, MAX_MESSAGE } from "../launcher/channel-protocol.ts";

/** An attester over the launcher's channel on `fd`. */
export function simulatedAttester(fd = CHANNEL_FD): Attester {
  let socket: Socket | undefined;
  let buffered = "";
  let nextId = 1;
  const pending = new Map<number, { resolve: (r: ChannelResponse) => void; reject: (e: Error) => void }>();

  const open = (): Socket => {
    if (socket !== undefined) return socket;
    let s: Socket;
    try {
      s = new Socket({ fd, readable: true, writable: true });
    } catch (cause) {
      throw new KeywardError(
        "ERR_ATTESTER_UNAVAILABLE",
        "no launcher channel: run the app with `keyward enclave run`",
        { cause },
      );
    }
    s.setEncoding("utf8");
    s.on("data", (chunk: string) => {
      buffered += chunk;
      if (buffered.length > MAX_MESSAGE * 2) s.destroy(new Error("oversized message"));
      let nl = buffered.indexOf("\n");
      while (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        try {
          const r = JSON.parse(line) as ChannelResponse;
          pending.get(r.id)?.resolve(r);
          pending.delete(r.id);
        } catch {
          s.destroy(new Error("malformed response"));
        }
        nl = buffered.indexOf("\n");
      }
      if (pending.size === 0) s.unref();
    });
    const fail = (e?: Error) => {
      for (const p of pending.values())
        p.reject(new KeywardError("ERR_ENCLAVE_CHANNEL", "the launcher channel closed", { cause: e }));
      pending.clear();
      socket = undefined;
    };
    s.on("error", fail);
    s.on("close", () => fail());
    socket = s;
    return s;
  };

  const request = async (body: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const s = open();
    s.ref();
    const id = nextId++;
    const response = await new Promise<ChannelResponse>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      s.write(`${JSON.stringify({ id, ...body })}\n`);
    });
    if (!response.ok) {
      const code: ErrorCode = isErrorCode(response.code) ? response.code : "ERR_ENCLAVE_CHANNEL";
      throw new KeywardError(code, `launcher: ${response.message}`);
    }
    return response.result;
  };

  return {
    backend: "simulated",
    async attest(reportData: Uint8Array): Promise<Evidence> {
      if (reportData.byteLength !== 64)
        throw new KeywardError("ERR_INPUT_INVALID", "report data must be 64 bytes");
      const r = await request({ op: "quote", reportData: toHex(reportData) });
      return { kind: "sgx-dcap", quote: fromHex(String(r.quote)), platform: "simulated" };
    },
    async identity(): Promise<WorkloadClaims> {
      // The launcher's own quote over zero report data carries every claim, as a local report would.
      const r = await request({ op: "quote", reportData: toHex(new Uint8Array(64)) });
      const q = parseDcapQuote(fromHex(String(r.quote)));
      if (q.body.kind !== "sgx")
        throw new KeywardError("ERR_ATTESTER_FAILED", "the launcher returned a non-SGX quote");
      return sgxClaimsOf(q.body.report);
    },
    async sealingKey(req: SealKeyRequest): Promise<Uint8Array> {
      const r = await request({
        op: "sealKey",
        policy: req.policy,
        keyId: toHex(req.keyId),
        isvSvn: req.isvSvn,
      });
      return fromHex(String(r.key));
    },
  };
}
