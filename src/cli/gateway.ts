// `timebound gateway ...`: the gateway is its own package (@timebound/gateway, with its own
// dependencies), so this command finds it where npm installed it and runs its CLI in a child
// process, passing signals on (SIGHUP reloads, SIGTERM drains) and its exit code back.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { moduleFile } from "../core/internal.js";
import type { Command } from "./command.js";
import type { CliIO } from "./io.js";

const FORWARDED = ["SIGHUP", "SIGTERM", "SIGINT"] as const;

/** @internal The gateway's CLI script, or undefined when @timebound/gateway is not installed. */
export function gatewayBin(from: string | undefined = moduleFile()): string | undefined {
  try {
    // Resolved from this file (both builds), else from the working directory.
    const base = from ?? join(process.cwd(), "index.js");
    const manifest = createRequire(base).resolve("@timebound/gateway/package.json");
    const bin = join(dirname(manifest), "bin", "timebound-gateway.js");
    // From a checkout, the package runs once built (npm run build builds the workspace).
    return existsSync(bin) && existsSync(join(dirname(manifest), "dist", "cli.js"))
      ? bin
      : undefined;
  } catch {
    return undefined;
  }
}

/** @internal `timebound gateway`: runs @timebound/gateway's CLI with the same arguments. */
export const gatewayCommand: Command = {
  name: "gateway",
  summary: "run the HTTP gateway (@timebound/gateway): timebound gateway --config gateway.yaml",
  run(args: readonly string[], io: CliIO): Promise<number> {
    const bin = gatewayBin();
    if (bin === undefined) {
      io.stderr.write(
        "timebound gateway: the gateway is its own package; install it with " +
          "`npm install @timebound/gateway` (from this repository: npm run build builds it)\n",
      );
      return Promise.resolve(1);
    }
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [bin, ...args], { stdio: "inherit" });
      const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
      const handlers = FORWARDED.map((signal) => [signal, forward(signal)] as const);
      for (const [signal, handler] of handlers) process.on(signal, handler);
      child.once("error", (err) => {
        io.stderr.write(`timebound gateway: ${err.message}\n`);
        resolve(1);
      });
      child.once("exit", (code, signal) => {
        for (const [s, handler] of handlers) process.off(s, handler);
        resolve(code ?? (signal === null ? 1 : 128));
      });
    });
  },
};
