/**
 * Asking the operator on a terminal: a line with echo (an account name), and a line without
 * (a one-time code), both prompted on stderr so that stdout stays the command's result. Only on a
 * terminal: a script never hangs on a question it cannot answer.
 *
 * @module
 */
import { KeywardError } from "@keyward/attest/errors";

/** True when stdin and stderr are a terminal (a person can answer). */
export function canPrompt(): boolean {
  return process.stdin.isTTY === true && process.stderr.isTTY === true;
}

/**
 * Reads one line from the terminal after writing `prompt` on stderr; with `echo: false` the typed
 * characters are not shown (the terminal is put in raw mode and restored, also on Ctrl-C).
 * At most 256 characters.
 * @throws ERR_USAGE when stdin is not a terminal or the operator cancels (Ctrl-C, Ctrl-D)
 */
export function promptLine(prompt: string, options: { readonly echo: boolean }): Promise<string> {
  const stdin = process.stdin;
  if (!canPrompt()) throw new KeywardError("ERR_USAGE", "cannot ask: stdin is not a terminal");
  // Echo off before the question shows: an answer typed the moment it appears is not echoed.
  stdin.setRawMode(true);
  stdin.setEncoding("utf8");
  process.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let line = "";
    const done = (error?: KeywardError) => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write("\n");
      if (error === undefined) resolve(line);
      else reject(error);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === "\r" || ch === "\n") return done();
        if (ch === "\u0003" || ch === "\u0004")
          return done(new KeywardError("ERR_USAGE", "cancelled at the prompt"));
        if (ch === "\u007f" || ch === "\b") {
          if (line.length > 0) {
            line = line.slice(0, -1);
            if (options.echo) process.stderr.write("\b \b");
          }
          continue;
        }
        if (ch < " ") continue;
        if (line.length >= 256) return done(new KeywardError("ERR_USAGE", "the answer is too long"));
        line += ch;
        if (options.echo) process.stderr.write(ch);
      }
    };
    stdin.on("data", onData);
    stdin.resume();
  });
}
