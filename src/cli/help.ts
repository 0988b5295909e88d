import type { Command } from "./command.js";

/** @internal The top-level help: what timebound's CLI does and which commands it has. */
export function usage(commands: readonly Command[], version: string): string {
  const width = Math.max(...commands.map((c) => c.name.length), "--version".length) + 2;
  const list = commands.map((c) => `  ${c.name.padEnd(width)} ${c.summary}`).join("\n");
  return `timebound ${version}: deadlines that actually stop the work

Usage: timebound <command> [options]

Commands:
${list}

Options:
  ${"--version".padEnd(width)} print the version
  ${"-h, --help".padEnd(width)} show this help

Examples:
  timebound lab --only missing-cancel
  timebound diagnose --out report -- node server.js

Run "timebound <command> --help" for a command's options.
`;
}
