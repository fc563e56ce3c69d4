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
    const parameters = this.#parameters(r);
    const pub = tpm2bWhole(parameters);
    tpm2b(parameters); // creationData
    tpm2b(parameters); // creationHash
    parameters.skip(6); // ticket tag + hierarchy
    tpm2b(parameters); // ticket digest
    const name = tpm2b(parameters);
    return { handle, public: pub, name };
  }

  /** TPM2_ReadPublic. */
  async readPublic(handle: number): Promise<TpmKey & { readonly qualifiedName: Uint8Array }> {
    const r = await this.#run(TPM_CC.ReadPublic, [handle], [], new Uint8Array());
    const pub = tpm2bWhole(r);
    const name = tpm2b(r);
    const qualifiedName = tpm2b(r);
    return { handle, public: pub, name, qualifiedName };
  }

  /** TPM2_PCR_Extend of a SHA-256 digest. */
  async pcrExtend(index: number, sha256Digest: Uint8Array): Promise<void> {
    const params = new TpmWriter().u32(1).u16(0x000b).bytes(sha256Digest).finish();
    await this.#run(TPM_CC.PCR_Extend, [index], [{ kind: "password" }], params);
  }

  /** TPM2_PCR_Reset (PCR 16 and 23 at locality 0). */
  async pcrReset(index: number): Promise<void> {
    await this.#run(TPM_CC.PCR_Reset, [index], [{ kind: "password" }], new Uint8Array());
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
    const r = this.#parameters(await this.#run(TPM_CC.Quote, [akHandle], [{ kind: "password" }], params));
    const attest = tpm2b(r);
    return { attest: new Uint8Array(attest), signature: new Uint8Array(r.rest()) };
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
    const r = this.#parameters(await this.#run(TPM_CC.Sign, [keyHandle], [{ kind: "password" }], params));
    return new Uint8Array(r.rest());
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
      );
      out.push(tpm2b(r));
    }
    return new Uint8Array(Buffer.concat(out));
  }

  /** TPM2_StartAuthSession: an unsalted, unbound policy session with SHA-256. */
  async startPolicySession(): Promise<number> {
    const params = new TpmWriter()
      .tpm2b(randomBytes(32))
      .tpm2b(new Uint8Array())
      .u8(0x01)
      .u16(0x0010)
      .u16(0x000b)
      .finish();
    const r = await this.#run(TPM_CC.StartAuthSession, [TPM_RH.NULL, TPM_RH.NULL], [], params);
    return r.u32be();
  }

  /** TPM2_PolicySecret with the empty password of `authHandle` (e.g. the endorsement hierarchy). */
  async policySecret(authHandle: number, session: number): Promise<void> {
    const params = new TpmWriter()
      .tpm2b(new Uint8Array())
      .tpm2b(new Uint8Array())
      .tpm2b(new Uint8Array())
      .u32(0)
      .finish();
    await this.#run(TPM_CC.PolicySecret, [authHandle, session], [{ kind: "password" }], params);
  }

  /**
   * TPM2_ActivateCredential: the TPM recovers the secret only if it holds the EK's private key
   * and a loaded object named as the credential says. The EK is authorized by
   * PolicySecret(endorsement), so a policy session is started and flushed here.
   */
  async activateCredential(
    akHandle: number,
    ekHandle: number,
    credentialBlob: Uint8Array,
    encryptedSecret: Uint8Array,
  ): Promise<Uint8Array> {
    const session = await this.startPolicySession();
    try {
      await this.policySecret(TPM_RH.ENDORSEMENT, session);
      const params = new TpmWriter().bytes(credentialBlob).bytes(encryptedSecret).finish();
      const r = this.#parameters(
        await this.#run(
          TPM_CC.ActivateCredential,
          [akHandle, ekHandle],
          [{ kind: "password" }, { kind: "session", handle: session }],
          params,
        ),
      );
      return new Uint8Array(tpm2b(r));
    } finally {
      // A session used without continueSession is flushed by the TPM; ignore "already gone".
      await this.flushContext(session).catch(() => undefined);
    }
  }

  /** TPM2_FlushContext: frees a transient object or session (swtpm holds only 3 objects). */
  async flushContext(handle: number): Promise<void> {
    await this.#run(TPM_CC.FlushContext, [], [], new TpmWriter().u32(handle).finish());
  }

  /** TPM2_Shutdown(CLEAR), so that the TPM saves its clock. */
  async shutdown(): Promise<void> {
    await this.#run(TPM_CC.Shutdown, [], [], new TpmWriter().u16(0).finish());
  }

  #parameters(r: ByteReader): ByteReader {
    const size = r.length(r.u32be(), 8192, "parameterSize");
    return new ByteReader(r.bytes(size), "TPM response parameters");
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

/** A short name for a response code (Part 2 §6.6): format-one codes name their parameter. */
export function describeRc(rc: number): string {
  const names: Record<number, string> = {
    256: "TPM_RC_INITIALIZE",
    257: "TPM_RC_FAILURE",
    296: "TPM_RC_PCR",
    323: "TPM_RC_HANDLE",
    329: "TPM_RC_REFERENCE_H0",
    2306: "TPM_RC_OBJECT_MEMORY",
    2311: "TPM_RC_LOCALITY",
    2338: "TPM_RC_RETRY",
  };
  if (names[rc] !== undefined) return `${names[rc]} (0x${rc.toString(16)})`;
  if ((rc & 0x80) !== 0) {
    const error = rc & 0x3f;
    const which = (rc >> 8) & 0xf;
    const kind = (rc & 0x40) !== 0 ? "parameter" : (rc & 0x800) !== 0 ? "session" : "handle";
    const errors: Record<number, string> = {
      2: "HASH",
      4: "VALUE",
      13: "SIZE",
      18: "SCHEME",
      21: "SIZE",
      29: "KEY_SIZE",
      31: "INTEGRITY",
      34: "KEY",
      38: "POLICY_FAIL",
      40: "SIGNATURE",
    };
    return `TPM_RC_${errors[error] ?? `0x${error.toString(16)}`} on ${kind} ${which} (0x${rc.toString(16)})`;
  }
  return `0x${rc.toString(16)}`;
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
