// The gateway as a process of its own, for the lab. timebound does not depend on
// @timebound/gateway (the gateway depends on timebound), so the lab never imports it: it finds the
// package where Node would, and runs its command. Installed, that is the package's bin (over its
// dist); in this repository's checkout, where the gateway is a workspace without a build, its
// sources under tsx.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { background, now } from "../core/index.js";
import { moduleFile } from "../core/internal.js";
import { sleep } from "../sync/sleep.js";
import { ownRequire } from "../io/own-require.js";
import { type ServerProcess, startServerProcess } from "../testing/server-process.js";

/** How to start the gateway's command: the program's arguments before `--config`, and where. */
export interface GatewayCommand {
  readonly args: readonly string[];
  readonly cwd: string;
}

/** The line the gateway prints when it serves: its traffic and admin addresses. */
const LISTENING = /listening on (http:\/\/\S+?),? admin on (http:\/\/\S+)/;

/** Runs the sources' `main(argv)` (a checkout without a build); argv[1] is the module. */
const RUN_SOURCES =
  "const { main } = await import(process.argv[1]);" +
  "const code = await main(process.argv.slice(2));" +
  "if (code !== undefined) process.exitCode = code;";

/**
 * @internal How to run the installed gateway, or why it cannot be run here (one line, for a
 * skipped scenario).
 */
export function findGateway(): GatewayCommand | string {
  const require = ownRequire();
  if (require === undefined) return "cannot resolve packages from timebound's own folder";
  let dir = workspaceGateway();
  if (dir === undefined) {
    try {
      dir = dirname(require.resolve("@timebound/gateway/package.json"));
    } catch {
      return "@timebound/gateway is not installed (npm install @timebound/gateway)";
    }
  }
  if (existsSync(join(dir, "dist", "cli.js"))) {
    return { args: [join(dir, "bin", "timebound-gateway.js")], cwd: dir };
  }
  const sources = join(dir, "src", "cli.ts");
  if (!existsSync(sources)) return `@timebound/gateway at ${dir} has neither dist/ nor src/`;
  let tsx: string;
  try {
    tsx = require.resolve("tsx");
  } catch {
    return `@timebound/gateway at ${dir} is not built (npm run build -w @timebound/gateway), and tsx is not installed to run its sources`;
  }
  // The package's folder as cwd: tsx then reads its tsconfig, which maps timebound to its sources.
  return {
    args: [
      "--import",
      pathToFileURL(tsx).href,
      "--input-type=module",
      "-e",
      RUN_SOURCES,
      pathToFileURL(sources).href,
    ],
    cwd: dir,
  };
}

/**
 * In a checkout of this repository, the gateway workspace beside timebound's own sources (what
 * node_modules links to may be another checkout's); undefined elsewhere.
 */
function workspaceGateway(): string | undefined {
  const self = moduleFile();
  if (self === undefined) return undefined;
  let dir = dirname(self.startsWith("file:") ? fileURLToPath(self) : self);
  for (let up = 0; up < 4; up++, dir = dirname(dir)) {
    const candidate = join(dir, "packages", "gateway");
    if (existsSync(join(candidate, "package.json")) && existsSync(join(dir, "package.json"))) {
      return candidate;
    }
  }
  return undefined;
}

/** @internal A gateway process serving one configuration. */
export interface GatewayProcess {
  readonly url: string;
  readonly adminUrl: string;
  readonly pid: number;
  /**
   * Replaces the configuration (same listen and admin ports): writes the file, sends SIGHUP and
   * resolves once the gateway says it applied it. New requests get new routes, breakers and
   * caches; requests in flight finish under the old ones.
   */
  reconfigure(yaml: string): Promise<void>;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`; removes its configuration. */
  stop(graceMs?: number): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * @internal Starts the gateway with the YAML configuration `yaml` (written to a temporary folder)
 * and resolves once it listens. The configuration must have an admin port.
 */
export async function startGatewayProcess(
  command: GatewayCommand,
  yaml: string,
): Promise<GatewayProcess> {
  const dir = mkdtempSync(join(tmpdir(), "timebound-lab-gateway-"));
  const file = join(dir, "gateway.yaml");
  writeFileSync(file, yaml);
  let server: ServerProcess;
  try {
    server = await startServerProcess(
      process.execPath,
      [...command.args, "--config", file, "--quiet"],
      LISTENING,
      { name: "lab: timebound-gateway", cwd: command.cwd, timeoutMs: 30_000 },
    );
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const m = LISTENING.exec(server.output());
  const stop = async (graceMs = 5_000): Promise<void> => {
    try {
      await server.stop("SIGTERM", graceMs);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const adminUrl = m?.[2] ?? "";
  const reconfigure = async (next: string): Promise<void> => {
    const before = await appliedReloads(adminUrl);
    writeFileSync(file, next);
    server.child.kill("SIGHUP");
    const until = now() + 10_000;
    while ((await appliedReloads(adminUrl)) <= before) {
      if (now() > until)
        throw new Error(`lab: the gateway did not apply its new configuration: ${server.output()}`);
      await sleep(background(), 50);
    }
    // The file watcher reloads too (100 ms after the write): let that pass before measuring.
    await sleep(background(), 300);
  };
  return {
    url: m?.[1] ?? "",
    adminUrl,
    pid: server.pid,
    reconfigure,
    stop,
    [Symbol.asyncDispose]: () => stop(),
  };
}

/** Configurations the gateway applied since it started, from its /metrics. */
async function appliedReloads(adminUrl: string): Promise<number> {
  const res = await fetch(`${adminUrl}/metrics`);
  const text = await res.text();
  const m = /timebound_gateway_config_reloads_total\{result="applied"\} (\d+)/.exec(text);
  return m === null ? 0 : Number(m[1]);
}
