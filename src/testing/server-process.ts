import { type ChildProcess, type SpawnOptions, spawn } from "node:child_process";
import { startTimer } from "../core/timer.js";

/** A server started from a system binary, stopped by {@link ServerProcess.stop}. */
export interface ServerProcess {
  readonly child: ChildProcess;
  /** Everything the server wrote, for error messages. */
  output(): string;
  /** Sends `signal`, waits for the exit (SIGKILL after `graceMs`). Idempotent. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * Spawns `command` and resolves once a line of its output matches `ready`, or rejects with the
 * output so far if it exits or `timeoutMs` passes first. Servers still running when this process
 * exits are killed, so a crashed test run leaves none behind.
 */
export function startServerProcess(
  command: string,
  args: readonly string[],
  ready: RegExp,
  options: SpawnOptions & { readonly timeoutMs?: number; readonly name: string },
): Promise<ServerProcess> {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once("exit", () => {
      for (const child of running) child.kill("SIGKILL");
    });
  }
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
    running.add(child);
    let log = "";
    let settled = false;
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    const timer = startTimer(
      () => fail(`did not become ready within ${options.timeoutMs ?? 30_000} ms`),
      options.timeoutMs ?? 30_000,
    );
    const server: ServerProcess = {
      child,
      output: () => log,
      async stop(signal = "SIGTERM", graceMs = 10_000) {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill(signal);
          const kill = startTimer(() => child.kill("SIGKILL"), graceMs);
          await exited;
          clearTimeout(kill);
        }
        running.delete(child);
      },
    };
    function fail(why: string): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill("SIGKILL");
      running.delete(child);
      reject(new Error(`${options.name} ${why}; its output:\n${log.slice(-4000)}`));
    }
    const onData = (chunk: Buffer): void => {
      log += chunk.toString();
      if (!settled && ready.test(log)) {
        settled = true;
        clearTimeout(timer);
        resolve(server);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("error", (err) => fail(`could not start (${err.message})`));
    child.once("exit", (code, signal) => fail(`exited (code ${code}, signal ${signal})`));
  });
}
