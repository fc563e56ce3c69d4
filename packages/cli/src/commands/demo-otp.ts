import { EXIT, type ExitCode, printJson } from "../output.ts";
import type { demoOtp } from "../specs/otp.ts";
import type { Parsed } from "../specs/types.ts";

/** `keyward demo otp [--json]`: the OTP flow end to end (see demo-otp.ts); exit 0 when every step is as expected. */
export async function run({ json }: Parsed<typeof demoOtp>): Promise<ExitCode> {
  let failures = 0;
  const steps: ({ text: string } | { ok: boolean; text: string })[] = [];
  const say = (line: string) => {
    if (json) steps.push({ text: line.trim() });
    else process.stdout.write(`${line}\n`);
  };
  const check = (ok: boolean, line: string) => {
    if (!ok) failures++;
    if (json) steps.push({ ok, text: line.trim() });
    else process.stdout.write(`${ok ? "  ok  " : "  FAIL"} ${line}\n`);
  };
  const { otpDemo } = await import("../demo-otp.ts");
  await otpDemo(say, check);
  say(failures === 0 ? "\nall steps as expected" : `\n${failures} step(s) differ from what was expected`);
  if (json) printJson({ ok: failures === 0, failures, steps: steps.filter((t) => t.text !== "") });
  return failures === 0 ? EXIT.ok : EXIT.rejected;
}
