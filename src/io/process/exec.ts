import type { Context } from "../../core/context.js";
import { checkContext } from "../../sync/check.js";
import { raceContext } from "../race.js";
import { type PartialOutput, withOutput } from "./errors.js";
import { type ProcessExit, Launched } from "./launch.js";
import {
  type ExecFileOptions,
  type ExecOptions,
  type OutputOptions,
  checkArgs,
  checkCommand,
  checkOptionsObject,
  escalation,
  outputOptions,
} from "./options.js";
import { Output } from "./output.js";

/**
 * What {@link exec} and {@link execFile} resolve with once the child has exited.
 *
 * @example
 * ```ts
 * const { stdout, stderr, code } = await exec(ctx, "npm ls --json");
 * ```
 */
export interface ExecResult extends PartialOutput, ProcessExit {}

const NO_OUTPUT: PartialOutput = { stdout: "", stderr: "" };

/**
 * Runs `command` in a shell (`/bin/sh -c`), bound to `ctx`, and collects its output. It resolves
 * once the command has exited, whatever its exit status: check `code` (and `signal`). When `ctx`
 * ends first, the shell's whole process group is stopped (SIGTERM, then SIGKILL after `graceMs`),
 * also the commands the shell started, which Node's own `exec` with a `signal` leaves running; the
 * promise rejects at once with a copy of `ctx.err` that carries the output read so far
 * ({@link ExecContextError}). If `ctx` has already ended, nothing is started.
 *
 * @example
 * ```ts
 * using ctx = withTimeout(parent, 5000);
 * const { stdout, code } = await exec(ctx, "git status --porcelain | wc -l", { cwd: repo });
 * ```
 */
export function exec(ctx: Context, command: string, options?: ExecOptions): Promise<ExecResult> {
  checkContext(ctx, "exec");
  checkCommand("exec", "command", command);
  const given = options ?? {};
  checkOptionsObject("exec", given);
  if (given.shell !== undefined) checkCommand("exec", "options.shell", given.shell);
  return run(ctx, "exec", command, [], given, given.shell ?? true);
}

/**
 * Runs `file` with `args` (no shell unless `options.shell`), bound to `ctx`, and collects its
 * output, as {@link exec} does: resolves once it has exited, whatever its exit status; when `ctx`
 * ends first, stops the child's whole process group and rejects at once with a copy of `ctx.err`
 * carrying the output so far.
 *
 * @example
 * ```ts
 * const { stdout } = await execFile(ctx, "git", ["rev-parse", "HEAD"], { cwd: repo });
 * ```
 */
export function execFile(
  ctx: Context,
  file: string,
  args?: readonly string[],
  options?: ExecFileOptions,
): Promise<ExecResult> {
  checkContext(ctx, "execFile");
  checkCommand("execFile", "file", file);
  const argv = checkArgs("execFile", args);
  const given = options ?? {};
  checkOptionsObject("execFile", given);
  const shell = given.shell ?? false;
  if (typeof shell !== "boolean") checkCommand("execFile", "options.shell", shell);
  return run(ctx, "execFile", file, argv, given, shell);
}

function run(
  ctx: Context,
  fn: string,
  file: string,
  args: readonly string[],
  options: OutputOptions,
  shell: boolean | string,
): Promise<ExecResult> {
  const stop = escalation(fn, options);
  const { encoding, maxBuffer, input } = outputOptions(fn, options);
  const ended = ctx.err;
  if (ended !== undefined) return Promise.reject(withOutput(ended, NO_OUTPUT));
  const {
    graceMs: _graceMs,
    killSignal: _killSignal,
    encoding: _encoding,
    maxBuffer: _maxBuffer,
    input: _input,
    ...nodeOptions
  } = options;
  const launched = new Launched(
    file,
    args,
    { ...nodeOptions, shell, stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"] },
    stop,
  );
  const output = new Output(launched.child, maxBuffer, encoding, () => void launched.stop());
  if (input !== undefined && launched.child.stdin !== null) {
    // EPIPE when the child exits without reading it all: its exit status tells how it went.
    launched.child.stdin.on("error", () => {});
    launched.child.stdin.end(input);
  }
  return raceContext(
    ctx,
    () => Promise.race([launched.closed, output.overflow]),
    () => void launched.stop(),
  ).then(
    (exit) => ({ ...output.read(), code: exit.code, signal: exit.signal }),
    (err: unknown) => {
      const ended = ctx.err;
      throw ended !== undefined && err === ended ? withOutput(ended, output.read()) : err;
    },
  );
}
