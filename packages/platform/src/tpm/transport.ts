/**
 * Ways to reach a TPM: swtpm's TCP command port (with its control port at +1), a unix socket
 * (swtpm `unixio`, control at `<path>.ctrl`), or a character device (`/dev/tpmrm0`). Every
 * transport sends one command and returns one whole response; callers serialize.
 *
 * @module
 */
import { type FileHandle, open } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { KeywardError } from "@keyward/attest/errors";

/** Sends raw TPM commands. */
export interface TpmTransport {
  send(command: Uint8Array): Promise<Uint8Array>;
  /** Sends a swtpm control command (u32 code + body) when the transport has a control channel. */
  control?(code: number, body?: Uint8Array): Promise<number>;
  close(): void;
}

const MAX_RESPONSE = 8192;

/**
 * A transport for `tcp://HOST:PORT`, `unix:PATH` or `device:PATH`.
 * @throws ERR_USAGE for an unknown form
 */
export function openTpmTransport(uri: string, timeoutMs = 10_000): TpmTransport {
  const tcp = /^tcp:\/\/(\[[0-9a-fA-F:.]+\]|[^:/[\]]+):(\d{1,5})$/.exec(uri);
  if (tcp !== null) {
    const host = (tcp[1] ?? "127.0.0.1").replace(/^\[|\]$/g, "");
    const port = Number(tcp[2]);
    if (port < 1 || port > 65534)
      throw new KeywardError("ERR_USAGE", `TPM URI "${uri}": port must be 1..65534 (control is port+1)`);
    return socketTransport({ host, port }, { host, port: port + 1 }, timeoutMs);
  }
  if (uri.startsWith("unix:")) {
    const path = uri.slice(5);
    return socketTransport({ path }, { path: `${path}.ctrl` }, timeoutMs);
  }
  if (uri.startsWith("device:")) return deviceTransport(uri.slice(7));
  throw new KeywardError("ERR_USAGE", `TPM URI "${uri}": expected tcp://HOST:PORT, unix:PATH or device:PATH`);
}

type Endpoint = { readonly host: string; readonly port: number } | { readonly path: string };

function socketTransport(data: Endpoint, ctrl: Endpoint, timeoutMs: number): TpmTransport {
  let socket: Socket | undefined;
  let buffered = Buffer.alloc(0);
  let waiter: (() => void) | undefined;
  let failure: Error | undefined;
  let generation = 0;

  const open = async (): Promise<Socket> => {
    if (socket !== undefined && !socket.destroyed) return socket;
    buffered = Buffer.alloc(0);
    failure = undefined;
    const mine = ++generation;
    const s = connect(data);
    s.setNoDelay(true);
    // Events of an earlier, closed connection must not touch the state of this one.
    const current = () => mine === generation;
    s.on("data", (chunk: Buffer) => {
      if (!current()) return;
      buffered = Buffer.concat([buffered, chunk]);
      waiter?.();
    });
    s.on("error", (e) => {
      if (!current()) return;
      failure = e;
      waiter?.();
    });
    s.on("close", () => {
      if (!current()) return;
      failure ??= new Error("connection closed");
      waiter?.();
    });
    await new Promise<void>((resolve, reject) => {
      s.once("connect", resolve);
      s.once("error", reject);
    }).catch((cause) => {
      throw new KeywardError("ERR_TPM_TRANSPORT", "TPM: cannot connect", { cause });
    });
    socket = s;
    return s;
  };

  const readResponse = async (): Promise<Uint8Array> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (buffered.length >= 6) {
        const size = buffered.readUInt32BE(2);
        if (size < 10 || size > MAX_RESPONSE)
          throw new KeywardError("ERR_TPM_TRANSPORT", `TPM: response size ${size}`);
        if (buffered.length >= size) {
          const out = new Uint8Array(buffered.subarray(0, size));
          buffered = buffered.subarray(size);
          return out;
        }
      }
      if (failure !== undefined)
        throw new KeywardError("ERR_TPM_TRANSPORT", "TPM: connection lost before a whole response", {
          cause: failure,
        });
      const left = deadline - Date.now();
      if (left <= 0) throw new KeywardError("ERR_TPM_TRANSPORT", `TPM: no response within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      waiter = undefined;
    }
  };

  return {
    async send(command) {
      const s = await open();
      s.write(command);
      return readResponse();
    },
    async control(code, body = new Uint8Array()) {
      const s = connect(ctrl);
      try {
        await new Promise<void>((resolve, reject) => {
          s.once("connect", resolve);
          s.once("error", reject);
        });
        const msg = Buffer.alloc(4 + body.byteLength);
        msg.writeUInt32BE(code, 0);
        msg.set(body, 4);
        s.write(msg);
        // The answer is a u32 result (TPM_RESULT); it may arrive in pieces.
        let reply = Buffer.alloc(0);
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error("timeout")), timeoutMs);
          s.on("data", (chunk: Buffer) => {
            reply = Buffer.concat([reply, chunk]);
            if (reply.length >= 4) {
              clearTimeout(timer);
              resolve();
            }
          });
          s.once("error", (e) => {
            clearTimeout(timer);
            reject(e);
          });
          s.once("close", () => {
            clearTimeout(timer);
            reject(new Error("control channel closed"));
          });
        });
        return reply.readUInt32BE(0);
      } catch (cause) {
        throw new KeywardError("ERR_TPM_TRANSPORT", "TPM control channel unavailable", { cause });
      } finally {
        s.destroy();
      }
    },
    close() {
      generation++;
      socket?.destroy();
      socket = undefined;
    },
  };
}

// The kernel's resource manager (/dev/tpmrm0) takes one whole command per write and returns one
// whole response per read. The I/O runs off the event loop (FileHandle).
function deviceTransport(path: string): TpmTransport {
  let handle: Promise<FileHandle> | undefined;
  return {
    async send(command) {
      try {
        handle ??= open(path, "r+");
        const fh = await handle;
        await fh.write(command, 0, command.byteLength, null);
        const buf = Buffer.alloc(MAX_RESPONSE);
        const { bytesRead } = await fh.read(buf, 0, buf.length, null);
        return new Uint8Array(buf.subarray(0, bytesRead));
      } catch (cause) {
        handle = undefined;
        throw new KeywardError("ERR_TPM_TRANSPORT", `TPM device ${path}: I/O failed`, { cause });
      }
    },
    close() {
      const h = handle;
      handle = undefined;
      void h?.then((fh) => fh.close()).catch(() => undefined);
    },
  };
}
