/**
 * The `keyward` command tree. Thin: each command parses its flags, calls the packages and prints.
 * Commands are loaded lazily so that `keyward quote verify` never loads the server's database code.
 *
 * @module
 */
import { EXIT, type ExitCode, reportFailure } from "./output.ts";

/** A command module: `run(args)` returns the exit status. */
export interface Command {
  readonly summary: string;
  run(args: readonly string[]): Promise<ExitCode>;
}

type Loader = () => Promise<{ readonly command: Command }>;

// "group verb" → module. Each file in commands/ implements one command.
const commands: Readonly<Record<string, Loader>> = {
  demo: () => import("./commands/demo.ts"),
  explain: () => import("./commands/explain.ts"),
  serve: () => import("./commands/serve.ts"),
  "audit verify": () => import("./commands/audit-verify.ts"),
  "admin init": () => import("./commands/admin-init.ts"),
  "admin add-client": () => import("./commands/admin-add-client.ts"),
  "admin put-secret": () => import("./commands/admin-put-secret.ts"),
  "admin delete-secret": () => import("./commands/admin-delete-secret.ts"),
  "admin list-secrets": () => import("./commands/admin-list-secrets.ts"),
  "admin create-key": () => import("./commands/admin-create-key.ts"),
  "admin put-policy": () => import("./commands/admin-put-policy.ts"),
  "admin delete-policy": () => import("./commands/admin-delete-policy.ts"),
  "admin list-policies": () => import("./commands/admin-list-policies.ts"),
  "admin explain": () => import("./commands/admin-explain.ts"),
  "admin rotate-master-key": () => import("./commands/admin-rotate-master-key.ts"),
  "audit read": () => import("./commands/audit-read.ts"),
  "quote inspect": () => import("./commands/quote-inspect.ts"),
  "quote verify": () => import("./commands/quote-verify.ts"),
  "sim init": () => import("./commands/sim-init.ts"),
  "sim refresh": () => import("./commands/sim-refresh.ts"),
  "sim quote": () => import("./commands/sim-quote.ts"),
  "enclave run": () => import("./commands/enclave-run.ts"),
  "enclave measure": () => import("./commands/enclave-measure.ts"),
  "enclave verify-measurement": () => import("./commands/enclave-verify-measurement.ts"),
  "enclave sigstruct": () => import("./commands/enclave-sigstruct.ts"),
  "ratls inspect": () => import("./commands/ratls-inspect.ts"),
  "ratls verify": () => import("./commands/ratls-verify.ts"),
  "tpm quote": () => import("./commands/tpm-quote.ts"),
  "tpm verify-quote": () => import("./commands/tpm-verify-quote.ts"),
};

/** Runs `keyward ARGS` and returns the exit status. */
export async function main(argv: readonly string[]): Promise<ExitCode> {
  const [first, second] = argv;
  if (first === undefined || first === "help" || first === "--help" || first === "-h") {
    process.stdout.write(await usage());
    return first === undefined ? EXIT.usage : EXIT.ok;
  }
  const two = second === undefined ? undefined : `${first} ${second}`;
  const name = two !== undefined && two in commands ? two : first in commands ? first : undefined;
  const load = name === undefined ? undefined : commands[name];
  if (name === undefined || load === undefined) {
    process.stderr.write(`keyward: unknown command "${argv.slice(0, 2).join(" ")}"\n\n${await usage()}`);
    return EXIT.usage;
  }
  const rest = argv.slice(name.split(" ").length);
  try {
    const { command } = await load();
    return await command.run(rest);
  } catch (e) {
    return reportFailure(e, rest.includes("--json"));
  }
}

async function usage(): Promise<string> {
  const lines = ["usage: keyward <command> [options]   (keyward <command> --help for its options)", ""];
  for (const [name, load] of Object.entries(commands)) {
    try {
      const { command } = await load();
      lines.push(`  ${name.padEnd(28)} ${command.summary}`);
    } catch {
      // A command whose module is not there yet is simply not listed.
    }
  }
  return `${lines.join("\n")}\n`;
}
