import { type SpawnOptions, spawn } from "node:child_process";
import { guardProcess } from "./leftovers.js";
import { LogTail } from "./log-tail.js";

/** Output kept from a setup command, for the error when it fails. */
const COMMAND_LOG_BYTES = 8 * 1024;

/**
 * Runs a setup command (initdb, cp) to its end without blocking the event loop, and rejects with
 * an error that starts with `what` and ends with its last output unless it exits with code 0.
 * Killed if this process exits or dies first, so that it does not write into a folder that is
 * being removed.
 *
 * @internal
 */
export function runCommand(
  what: string,
  command: string,
  args: readonly string[],
  options: SpawnOptions = {},
): Promise<void> {
  return new Promise((resolve, reject) => {
    const output = new LogTail(COMMAND_LOG_BYTES);
    const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
    const guard = child.pid === undefined ? undefined : guardProcess(child, "SIGKILL");
    child.stdout?.on("data", (chunk: Buffer) => output.append(chunk));
    child.stderr?.on("data", (chunk: Buffer) => output.append(chunk));
    child.once("error", (err) => {
      guard?.release();
      reject(new Error(`${what}: could not run ${command} (${err.message})`, { cause: err }));
    });
    // "close": the output is complete.
    child.once("close", (code, signal) => {
      guard?.release();
      if (code === 0) {
        resolve();
        return;
      }
      const status = signal === null ? `exited with code ${code}` : `was killed by ${signal}`;
      reject(new Error(`${what}: ${command} ${status}; its last output:\n${output.text()}`));
    });
  });
}
