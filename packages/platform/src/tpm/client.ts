/**
 * A TPM 2.0 client: the commands Keyward needs, marshalled here (Part 3), responses parsed with
 * the bounded reader, response codes turned into errors, TPM_RC_RETRY and friends retried.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { ByteReader } from "@keyward/attest/bytes";
import { KeywardError } from "@keyward/attest/errors";
import { readPcrSelection } from "@keyward/attest/tpm";
import { openTpmTransport, type TpmTransport } from "./transport.ts";
import { pcrSelection, TpmWriter } from "./writer.ts";

/** Handles of the permanent hierarchies and the password session. */
export const TPM_RH = {
  OWNER: 0x40000001,
  NULL: 0x40000007,
  PW: 0x40000009,
  ENDORSEMENT: 0x4000000b,
  PLATFORM: 0x4000000c,
} as const;

const TPM_CC = {
  Startup: 0x144,
  Shutdown: 0x145,
  CreatePrimary: 0x131,
  PCR_Extend: 0x182,
  PCR_Reset: 0x13d,
  PCR_Read: 0x17e,
  Quote: 0x158,
  Sign: 0x15d,
  ReadPublic: 0x173,
  NV_ReadPublic: 0x169,
  NV_Read: 0x14e,
  StartAuthSession: 0x176,
  PolicySecret: 0x151,
  ActivateCredential: 0x147,
  FlushContext: 0x165,
  GetCapability: 0x17a,
} as const;

const RC_INITIALIZE = 0x100;
const RC_FAILURE = 0x101;
/** swtpm control channel: CMD_INIT (body u32 flags; 0 keeps volatile state). */
const CMD_INIT = 2;
// TPM_RC_RETRY, TPM_RC_TESTING, TPM_RC_YIELDED: "try again"; swtpm answers RETRY to the first
// ECDSA quote after start while it self-tests.
const RETRYABLE = new Set([0x922, 0x90a, 0x908]);

/** An authorization: the empty password, or a policy session already satisfied. */
type Auth =
  | { readonly kind: "password"; readonly value?: Uint8Array }
  | { readonly kind: "session"; readonly handle: number };

/** The result of creating or reading a key. */
export interface TpmKey {
  readonly handle: number;
  /** TPM2B_PUBLIC bytes (size + TPMT_PUBLIC). */
  readonly public: Uint8Array;
  readonly name: Uint8Array;
}

/** A TPM 2.0 client over a transport. Commands are serialized: a TPM runs one at a time. */
export class TpmClient {
  readonly #transport: TpmTransport;
  #queue: Promise<unknown> = Promise.resolve();
  /** The response code of the last command that completed (commands run one at a time). */
  #lastRc = 0;

  constructor(transport: TpmTransport) {
    this.#transport = transport;
  }

  /** A client for `tcp://HOST:PORT`, `unix:PATH` or `device:PATH`. */
  static open(uri: string): TpmClient {
    return new TpmClient(openTpmTransport(uri));
  }

  /** Closes the connection (swtpm serves one connection at a time). */
  close(): void {
    this.#transport.close();
  }

  /**
   * TPM2_Startup(CLEAR); a TPM that is already started is fine. A swtpm started without
   * `--flags not-need-init` answers TPM_RC_FAILURE until it is powered on: then this powers it on
   * through the control channel (CMD_INIT) and starts it.
   */
  async startup(): Promise<void> {
    const rc = await this.#startupRc();
    if (rc === RC_FAILURE && this.#transport.control !== undefined) {
      await this.powerOn();
      await this.#startupRc();
    } else if (rc === RC_FAILURE) {
      throw new KeywardError("ERR_TPM_RESPONSE", "TPM: Startup failed with TPM_RC_FAILURE (0x101)", {
        detail: { rc: "0x101", command: "0x144" },
      });
    }
  }

  /** swtpm control CMD_INIT (power on, keep the state): for a swtpm started without `not-need-init`. */
  async powerOn(): Promise<void> {
    const control = this.#transport.control;
    if (control === undefined)
      throw new KeywardError("ERR_TPM_TRANSPORT", "TPM: this transport has no control channel");
    const result = await control.call(this.#transport, CMD_INIT, new Uint8Array(4));
    if (result !== 0)
      throw new KeywardError(
        "ERR_TPM_RESPONSE",
        `TPM: control CMD_INIT failed with 0x${result.toString(16)}`,
        {
          detail: { rc: `0x${result.toString(16)}`, command: "CMD_INIT" },
        },
      );
  }

  async #startupRc(): Promise<number> {
    const r = await this.#run(TPM_CC.Startup, [], [], new TpmWriter().u16(0).finish(), [
      RC_INITIALIZE,
      RC_FAILURE,
    ]);
    r.end();
    return this.#lastRc;
  }

  /** TPM2_GetCapability: the raw TPMS_CAPABILITY_DATA. */
  async getCapability(capability: number, property: number, count: number): Promise<Uint8Array> {
    const r = await this.#run(
      TPM_CC.GetCapability,
      [],
      [],
      new TpmWriter().u32(capability).u32(property).u32(count).finish(),
    );
    r.u8(); // moreData
    return r.rest();
  }

  /** TPM2_GetCapability(TPM_CAP_TPM_PROPERTIES): up to `count` properties from `first`, parsed strictly. */
  async getTpmProperties(
    first: number,
    count: number,
  ): Promise<{ readonly property: number; readonly value: number }[]> {
    const r = await this.#run(
      TPM_CC.GetCapability,
      [],
      [],
      new TpmWriter().u32(6).u32(first).u32(count).finish(),
    );
    r.u8(); // moreData
    if (r.u32be() !== 6)
      throw new KeywardError("ERR_TPM_RESPONSE", "TPM: GetCapability answered another capability");
    const n = r.length(r.u32be(), 256, "TPML_TAGGED_TPM_PROPERTY.count");
    const out: { property: number; value: number }[] = [];
    for (let i = 0; i < n; i++) out.push({ property: r.u32be(), value: r.u32be() });
    r.end();
    return out;
  }

  /** TPM2_CreatePrimary under `hierarchy` from a TPMT_PUBLIC template. Flush the handle when done. */
  async createPrimary(hierarchy: number, template: Uint8Array): Promise<TpmKey> {
    const params = new TpmWriter()
      .tpm2b(new TpmWriter().tpm2b(new Uint8Array()).tpm2b(new Uint8Array()).finish()) // TPM2B_SENSITIVE_CREATE
      .tpm2b(template) // TPM2B_PUBLIC
      .tpm2b(new Uint8Array()) // outsideInfo
      .u32(0) // creationPCR: none
      .finish();
    const r = await this.#run(TPM_CC.CreatePrimary, [hierarchy], [{ kind: "password" }], params);
    const handle = r.u32be();
    const parameters = this.#parameters(r, 1);
    const pub = tpm2bWhole(parameters);
    tpm2b(parameters); // creationData
    tpm2b(parameters); // creationHash
    parameters.skip(6); // ticket tag + hierarchy
    tpm2b(parameters); // ticket digest
    const name = tpm2b(parameters);
    parameters.end();
    return { handle, public: pub, name };
  }

  /** TPM2_ReadPublic. */
  async readPublic(handle: number): Promise<TpmKey & { readonly qualifiedName: Uint8Array }> {
    const r = await this.#run(TPM_CC.ReadPublic, [handle], [], new Uint8Array());
    const pub = tpm2bWhole(r);
    const name = tpm2b(r);
    const qualifiedName = tpm2b(r);
    r.end();
    return { handle, public: pub, name, qualifiedName };
  }

  /** TPM2_PCR_Extend of a SHA-256 digest. */
  async pcrExtend(index: number, sha256Digest: Uint8Array): Promise<void> {
    const params = new TpmWriter().u32(1).u16(0x000b).bytes(sha256Digest).finish();
    this.#parameters(await this.#run(TPM_CC.PCR_Extend, [index], [{ kind: "password" }], params), 1).end();
  }

  /** TPM2_PCR_Reset (PCR 16 and 23 at locality 0). */
  async pcrReset(index: number): Promise<void> {
    const r = await this.#run(TPM_CC.PCR_Reset, [index], [{ kind: "password" }], new Uint8Array());
    this.#parameters(r, 1).end();
  }

  /** TPM2_PCR_Read: the values in selection order, concatenated (the `pcrs.bin` layout). */
  async pcrRead(
    banks: readonly { readonly hash: number; readonly pcrs: readonly number[] }[],
  ): Promise<Uint8Array> {
    const out: Uint8Array[] = [];
    // A TPM returns at most 8 digests per read: ask one PCR at a time, in order.
    for (const bank of banks) {
      for (const pcr of bank.pcrs) {
        const r = await this.#run(TPM_CC.PCR_Read, [], [], pcrSelection([{ hash: bank.hash, pcrs: [pcr] }]));
        r.u32be(); // pcrUpdateCounter
        readPcrSelection(r);
        const count = r.length(r.u32be(), 8, "digests");
        if (count !== 1)
          throw new KeywardError(
            "ERR_TPM_RESPONSE",
            `TPM: PCR ${pcr} of bank 0x${bank.hash.toString(16)} is not active`,
          );
        out.push(tpm2b(r));
        r.end();
      }
    }
    return new Uint8Array(Buffer.concat(out));
  }

  /** TPM2_Quote with the key's own scheme: the TPMS_ATTEST and TPMT_SIGNATURE bytes. */
  async quote(
    akHandle: number,
    qualifyingData: Uint8Array,
    banks: readonly { readonly hash: number; readonly pcrs: readonly number[] }[],
  ): Promise<{ readonly attest: Uint8Array; readonly signature: Uint8Array }> {
    const params = new TpmWriter().tpm2b(qualifyingData).u16(0x0010).bytes(pcrSelection(banks)).finish();
    const r = this.#parameters(await this.#run(TPM_CC.Quote, [akHandle], [{ kind: "password" }], params), 1);
    const attest = tpm2b(r);
    const signature = readSignature(r);
    r.end();
    return { attest: new Uint8Array(attest), signature };
  }

  /** TPM2_Sign of a digest with an unrestricted key (NULL ticket): the TPMT_SIGNATURE bytes. */
  async sign(keyHandle: number, digest: Uint8Array): Promise<Uint8Array> {
    const params = new TpmWriter()
      .tpm2b(digest)
      .u16(0x0010)
      .u16(0x8024)
      .u32(TPM_RH.NULL)
      .tpm2b(new Uint8Array())
      .finish();
    const r = this.#parameters(await this.#run(TPM_CC.Sign, [keyHandle], [{ kind: "password" }], params), 1);
    const signature = readSignature(r);
    r.end();
    return signature;
  }

  /** TPM2_NV_ReadPublic: the data size of an NV index. */
  async nvReadPublic(index: number): Promise<{ readonly size: number; readonly attributes: number }> {
    const r = await this.#run(TPM_CC.NV_ReadPublic, [index], [], new Uint8Array());
    const pub = new ByteReader(tpm2b(r), "TPMS_NV_PUBLIC");
    pub.u32be(); // index
    pub.u16be(); // nameAlg
    const attributes = pub.u32be();
    tpm2b(pub); // authPolicy
    const size = pub.u16be();
    pub.end();
    tpm2b(r); // nvName
    r.end();
    return { size, attributes };
  }

  /** TPM2_NV_Read of a whole index (e.g. an EK certificate at 0x01c00002), in chunks. */
  async nvRead(index: number): Promise<Uint8Array> {
    const { size, attributes } = await this.nvReadPublic(index);
    // TPMA_NV_AUTHREAD (bit 18): the index authorizes reads itself; else TPMA_NV_OWNERREAD (bit 17).
    const authHandle =
      (attributes & (1 << 18)) !== 0 ? index : (attributes & (1 << 17)) !== 0 ? TPM_RH.OWNER : index;
    const out: Uint8Array[] = [];
    for (let offset = 0; offset < size; offset += 512) {
      const n = Math.min(512, size - offset);
      const params = new TpmWriter().u16(n).u16(offset).finish();
      const r = this.#parameters(
        await this.#run(TPM_CC.NV_Read, [authHandle, index], [{ kind: "password" }], params),
        1,
      );
      out.push(tpm2b(r));
      r.end();
    }
    return new Uint8Array(Buffer.concat(out));
  }

  /** TPM2_StartAuthSession: an unsalted, unbound policy session (SHA-256 unless told). */
  async startPolicySession(hashAlg = 0x000b): Promise<number> {
    const params = new TpmWriter()
      .tpm2b(randomBytes(hashAlg === 0x000c ? 48 : hashAlg === 0x000d ? 64 : 32))
      .tpm2b(new Uint8Array())
      .u8(0x01)
      .u16(0x0010)
      .u16(hashAlg)
      .finish();
    const r = await this.#run(TPM_CC.StartAuthSession, [TPM_RH.NULL, TPM_RH.NULL], [], params);
    const handle = r.u32be();
    tpm2b(r); // nonceTPM
    r.end();
    return handle;
  }

  /** TPM2_PolicySecret with the empty password of `authHandle` (e.g. the endorsement hierarchy). */
  async policySecret(authHandle: number, session: number): Promise<void> {
    const params = new TpmWriter()
      .tpm2b(new Uint8Array())
      .tpm2b(new Uint8Array())
      .tpm2b(new Uint8Array())
      .u32(0)
      .finish();
    const r = await this.#run(TPM_CC.PolicySecret, [authHandle, session], [{ kind: "password" }], params);
    const out = this.#parameters(r, 1);
    tpm2b(out); // timeout
    out.skip(2 + 4); // policyTicket tag, hierarchy
    tpm2b(out); // policyTicket digest
    out.end();
  }

  /**
   * TPM2_ActivateCredential: the TPM recovers the secret only if it holds the EK's private key
   * and a loaded object named as the credential says. A TCG low-range EK is authorized by
   * PolicySecret(endorsement): with `ekAuth` "policy" a SHA-256 policy session is started and
   * flushed here. EKs with userWithAuth (swtpm_setup's P-384 EK) take the empty password.
   */
  async activateCredential(
    akHandle: number,
    ekHandle: number,
    credentialBlob: Uint8Array,
    encryptedSecret: Uint8Array,
    ekAuth: "policy" | "password" = "policy",
  ): Promise<Uint8Array> {
    const session = ekAuth === "policy" ? await this.startPolicySession() : undefined;
    try {
      if (session !== undefined) await this.policySecret(TPM_RH.ENDORSEMENT, session);
      const params = new TpmWriter().bytes(credentialBlob).bytes(encryptedSecret).finish();
      const r = this.#parameters(
        await this.#run(
          TPM_CC.ActivateCredential,
          [akHandle, ekHandle],
          [
            { kind: "password" },
            session === undefined ? { kind: "password" } : { kind: "session", handle: session },
          ],
          params,
        ),
        2,
      );
      const secret = new Uint8Array(tpm2b(r));
      r.end();
      return secret;
    } finally {
      // A session used without continueSession is flushed by the TPM; ignore "already gone".
      if (session !== undefined) await this.flushContext(session).catch(() => undefined);
    }
  }

  /** TPM2_FlushContext: frees a transient object or session (swtpm holds only 3 objects). */
  async flushContext(handle: number): Promise<void> {
    (await this.#run(TPM_CC.FlushContext, [], [], new TpmWriter().u32(handle).finish())).end();
  }

  /** TPM2_Shutdown(CLEAR), so that the TPM saves its clock. */
  async shutdown(): Promise<void> {
    (await this.#run(TPM_CC.Shutdown, [], [], new TpmWriter().u16(0).finish())).end();
  }

  // The parameter area of a response to a command with `sessions` authorizations, after which
  // exactly one TPMS_AUTH_RESPONSE per session must follow, and nothing else.
  #parameters(r: ByteReader, sessions: number): ByteReader {
    const size = r.length(r.u32be(), 8192, "parameterSize");
    const parameters = new ByteReader(r.bytes(size), "TPM response parameters");
    for (let i = 0; i < sessions; i++) {
      tpm2b(r); // nonceTPM
      r.u8(); // sessionAttributes
      tpm2b(r); // hmac
    }
    r.end();
    return parameters;
  }

  async #run(
    cc: number,
    handles: readonly number[],
    auths: readonly Auth[],
    params: Uint8Array,
    ok: readonly number[] = [],
  ): Promise<ByteReader> {
    const task = this.#queue.then(() => this.#exec(cc, handles, auths, params, ok));
    this.#queue = task.catch(() => undefined);
    return task;
  }

  async #exec(
    cc: number,
    handles: readonly number[],
    auths: readonly Auth[],
    params: Uint8Array,
    ok: readonly number[],
  ): Promise<ByteReader> {
    const body = new TpmWriter();
    for (const h of handles) body.u32(h);
    if (auths.length > 0) {
      const area = new TpmWriter();
      for (const a of auths) {
        // TPMS_AUTH_COMMAND: handle, nonce (empty), attributes continueSession, hmac or password.
        if (a.kind === "password")
          area
            .u32(TPM_RH.PW)
            .tpm2b(new Uint8Array())
            .u8(0x01)
            .tpm2b(a.value ?? new Uint8Array());
        else area.u32(a.handle).tpm2b(new Uint8Array()).u8(0x01).tpm2b(new Uint8Array());
      }
      const a = area.finish();
      body.u32(a.byteLength).bytes(a);
    }
    body.bytes(params);
    const b = body.finish();
    const command = new TpmWriter()
      .u16(auths.length > 0 ? 0x8002 : 0x8001)
      .u32(10 + b.byteLength)
      .u32(cc)
      .bytes(b)
      .finish();
    for (let attempt = 0; ; attempt++) {
      const response = await this.#transport.send(command);
      const r = new ByteReader(response, "TPM response");
      const tag = r.u16be();
      const size = r.u32be();
      if (size !== response.byteLength)
        throw new KeywardError(
          "ERR_TPM_TRANSPORT",
          `TPM: response says ${size} bytes but ${response.byteLength} arrived`,
        );
      const rc = r.u32be();
      this.#lastRc = rc;
      if (RETRYABLE.has(rc) && attempt < 20) {
        await new Promise((resolve) => setTimeout(resolve, 5 * (attempt + 1)));
        continue;
      }
      if (rc !== 0 && !ok.includes(rc)) {
        throw new KeywardError(
          "ERR_TPM_RESPONSE",
          `TPM: command 0x${cc.toString(16)} failed with ${describeRc(rc)}`,
          {
            detail: { rc: `0x${rc.toString(16)}`, command: `0x${cc.toString(16)}` },
          },
        );
      }
      if (rc !== 0) return new ByteReader(new Uint8Array(), "TPM response");
      if (tag !== 0x8001 && tag !== 0x8002)
        throw new KeywardError("ERR_TPM_TRANSPORT", `TPM: response tag 0x${tag.toString(16)}`);
      // Output handles (if any) come before the parameter area; callers read them first.
      return r;
    }
  }
}

/** TPM_RC format-one errors (Part 2 §6.6.3), by their low 6 bits. */
const RC_FMT1: Readonly<Record<number, string>> = {
  1: "ASYMMETRIC",
  2: "ATTRIBUTES",
  3: "HASH",
  4: "VALUE",
  5: "HIERARCHY",
  7: "KEY_SIZE",
  8: "MGF",
  9: "MODE",
  10: "TYPE",
  11: "HANDLE",
  12: "KDF",
  13: "RANGE",
  14: "AUTH_FAIL",
  15: "NONCE",
  16: "PP",
  18: "SCHEME",
  21: "SIZE",
  22: "SYMMETRIC",
  23: "TAG",
  24: "SELECTOR",
  26: "INSUFFICIENT",
  27: "SIGNATURE",
  28: "KEY",
  29: "POLICY_FAIL",
  31: "INTEGRITY",
  32: "TICKET",
  33: "RESERVED_BITS",
  34: "BAD_AUTH",
  35: "EXPIRED",
  36: "POLICY_CC",
  37: "BINDING",
  38: "CURVE",
  39: "ECC_POINT",
};

/** TPM_RC format-zero codes (errors 0x100.., warnings 0x900..) we may meet. */
const RC_FMT0: Readonly<Record<number, string>> = {
  256: "INITIALIZE",
  257: "FAILURE",
  259: "SEQUENCE",
  267: "PRIVATE",
  281: "HMAC",
  288: "DISABLED",
  289: "EXCLUSIVE",
  292: "AUTH_TYPE",
  293: "AUTH_MISSING",
  294: "POLICY",
  295: "PCR",
  296: "PCR_CHANGED",
  301: "UPGRADE",
  302: "TOO_MANY_CONTEXTS",
  303: "AUTH_UNAVAILABLE",
  304: "REBOOT",
  305: "UNBALANCED",
  322: "COMMAND_SIZE",
  323: "COMMAND_CODE",
  324: "AUTHSIZE",
  325: "AUTH_CONTEXT",
  326: "NV_RANGE",
  327: "NV_SIZE",
  328: "NV_LOCKED",
  329: "NV_AUTHORIZATION",
  330: "NV_UNINITIALIZED",
  331: "NV_SPACE",
  332: "NV_DEFINED",
  336: "BAD_CONTEXT",
  337: "CPHASH",
  338: "PARENT",
  339: "NEEDS_TEST",
  340: "NO_RESULT",
  341: "SENSITIVE",
  2305: "CONTEXT_GAP",
  2306: "OBJECT_MEMORY",
  2307: "SESSION_MEMORY",
  2308: "MEMORY",
  2309: "SESSION_HANDLES",
  2310: "OBJECT_HANDLES",
  2311: "LOCALITY",
  2312: "YIELDED",
  2313: "CANCELED",
  2314: "TESTING",
  2337: "NV_RATE",
  2338: "RETRY",
  2339: "NV_UNAVAILABLE",
};

/**
 * A name for a response code (Part 2 §6.6): format-one codes also say which handle, session or
 * parameter they are about, e.g. "TPM_RC_POLICY_FAIL on session 2 (0x9a2)".
 */
export function describeRc(rc: number): string {
  const hex = `0x${rc.toString(16)}`;
  if ((rc & 0x80) !== 0) {
    const name = RC_FMT1[rc & 0x3f] ?? `error 0x${(rc & 0x3f).toString(16)}`;
    // Bit 6: a parameter, numbered in bits 8..11. Otherwise bit 11: a session, else a handle,
    // numbered in bits 8..10 (0: unspecified).
    const where =
      (rc & 0x40) !== 0
        ? `parameter ${(rc >> 8) & 0xf}`
        : `${(rc & 0x800) !== 0 ? "session" : "handle"} ${(rc >> 8) & 0x7}`;
    return `TPM_RC_${name} on ${where} (${hex})`;
  }
  const name = RC_FMT0[rc & 0xfff];
  return name === undefined ? hex : `TPM_RC_${name} (${hex})`;
}

// A TPMT_SIGNATURE, read field by field and kept as its bytes: sigAlg, hash, then r and s (ECC
// schemes) or one signature (RSA schemes).
function readSignature(r: ByteReader): Uint8Array {
  const w = new TpmWriter();
  const alg = r.u16be();
  w.u16(alg);
  if (alg === 0x0010) return w.finish();
  w.u16(r.u16be()).tpm2b(tpm2b(r));
  if (alg === 0x0018 || alg === 0x001a || alg === 0x001b || alg === 0x001c) w.tpm2b(tpm2b(r));
  else if (alg !== 0x0014 && alg !== 0x0016)
    throw new KeywardError("ERR_TPM_RESPONSE", `TPM: signature algorithm 0x${alg.toString(16)}`);
  return w.finish();
}

function tpm2b(r: ByteReader): Uint8Array {
  return r.bytes(r.length(r.u16be(), 4096, "TPM2B"));
}

// A TPM2B kept whole (size included), the form files like ak.pub hold.
function tpm2bWhole(r: ByteReader): Uint8Array {
  const size = r.length(r.u16be(), 4096, "TPM2B");
  const body = r.bytes(size);
  const out = new Uint8Array(2 + size);
  out[0] = size >> 8;
  out[1] = size & 0xff;
  out.set(body, 2);
  return out;
}
