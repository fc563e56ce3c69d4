/**
 * Help text, generated from the command registry: the listing (`keyward help`), a group's
 * (`keyward help quote`) and a command's (`keyward quote verify --help`, `keyward help quote verify`).
 *
 * @module
 */
import { COMMANDS, groups } from "./registry.ts";
import type { CommandSpec, OptionSpec } from "./specs/types.ts";

const EXIT_STATUSES =
  "exit status: 0 accepted, 1 rejected by a check, 2 usage or unreadable input, 70 internal error";

/** `keyward help`: every command, grouped. */
export function overview(): string {
  const lines = [
    "usage: keyward <command> [options]",
    "       keyward help <command>      (or keyward <command> --help) for a command's options",
    "       keyward --version",
    "",
    "commands:",
  ];
  for (const { spec } of COMMANDS) lines.push(`  ${spec.name.padEnd(28)} ${spec.summary}`);
  lines.push("", EXIT_STATUSES, "Every error code is explained by  keyward explain ERR_CODE.");
  return `${lines.join("\n")}\n`;
}

/** `keyward help GROUP`: the commands of one group. */
export function groupHelp(group: string): string | undefined {
  if (
    !groups().includes(group) &&
    !COMMANDS.some((c) => c.spec.name.startsWith(`${group} `) && group.includes(" "))
  )
    return undefined;
  const lines = [`usage: keyward ${group} <command> [options]`, "", "commands:"];
  for (const { spec } of COMMANDS)
    if (spec.name.startsWith(`${group} `)) lines.push(`  ${spec.name.padEnd(28)} ${spec.summary}`);
  lines.push("", `keyward help ${group} <command> shows a command's options.`);
  return `${lines.join("\n")}\n`;
}

/** One command's help. */
export function commandHelp(spec: CommandSpec): string {
  const lines = [`usage: keyward ${spec.name} ${spec.synopsis}`.trimEnd(), "", `${capital(spec.summary)}.`];
  if (spec.description !== undefined) lines.push("", ...wrap(spec.description, 100));
  if (spec.positionals !== undefined && spec.positionals.length > 0) {
    lines.push("", "arguments:");
    for (const p of spec.positionals) lines.push(row(p.name, p.help));
  }
  const options: [string, OptionSpec][] = Object.entries(spec.options);
  lines.push("", "options:");
  for (const [name, o] of options) {
    const flag = `${o.short === undefined ? "" : `-${o.short}, `}--${name}${o.value === undefined ? "" : ` ${o.value}`}`;
    lines.push(row(flag, `${o.help}${o.multiple === true ? " (repeatable)" : ""}`));
  }
  if (spec.json) lines.push(row("--json", "print the result (or the error) as JSON on stdout"));
  lines.push(row("-h, --help", "show this help"));
  if (spec.examples !== undefined && spec.examples.length > 0) {
    lines.push("", "examples:");
    for (const e of spec.examples) lines.push(`  keyward ${spec.name}${e === "" ? "" : ` ${e}`}`);
  }
  lines.push("", EXIT_STATUSES);
  return `${lines.join("\n")}\n`;
}

function row(left: string, right: string): string {
  const pad = 30;
  if (left.length + 2 >= pad) return `  ${left}\n${" ".repeat(pad)}${right}`;
  return `  ${left.padEnd(pad - 2)}${right}`;
}

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line !== "" && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  if (line !== "") out.push(line);
  return out;
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
