import type { Context } from "../../core/index.js";
import { type OptionsReader, checkContext, checkString } from "../../core/internal.js";
import { raceContext } from "../race.js";
import { type PartialOutput, withOutput } from "./errors.js";
import { type ProcessExit, Launched } from "./launch.js";
import {
  type ExecFileOptions,
  type ExecOptions,
  type OutputOptions,
  checkArgs,
  escalation,
  outputOptions,
  processOptions,
  treeMode,
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
 * ({@link ExecContextError}). If `ctx` has already ended, it rejects so and nothing is started;
 * bad arguments reject too (TypeError, RangeError), never throw.
 *
 * A command that leaves the group keeps running by default: `exec(ctx, "setsid sleep 60 &")`
 * waits for the sleep (it holds stdout), rejects when `ctx` ends, and the sleep lives on. On
 * Linux, `{ tree: "descendants" }` stops it too ({@link StopOptions.tree}).
 *
 * @example
 * ```ts
 * using ctx = withTimeout(parent, 5000);
 * const { stdout, code } = await exec(ctx, "git status --porcelain | wc -l", { cwd: repo });
 * ```
 */
export function exec(ctx: Context, command: string, options?: ExecOptions): Promise<ExecResult> {
  try {
    checkContext(ctx, "exec");
    checkString(command, "exec", "command");
    const o = processOptions(options, "exec");
    return run(ctx, command, [], o, o.string("shell", undefined) ?? true);
  } catch (err) {
    return Promise.reject(err); // as Node's promise APIs do: a caller's .catch sees bad input too
  }
}

/**
 * Runs `file` with `args` (no shell unless `options.shell`), bound to `ctx`, and collects its
 * output, as {@link exec} does: resolves once it has exited, whatever its exit status; when `ctx`
 * ends first, stops the child's whole process group (with `tree: "descendants"`, also what left
 * it) and rejects at once with a copy of `ctx.err` carrying the output so far. Bad arguments
 * reject, never throw.
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
  try {
    checkContext(ctx, "execFile");
    checkString(file, "execFile", "file");
    const argv = checkArgs("execFile", args);
    const o = processOptions(options, "execFile");
    const shell = o.raw("shell");
    if (shell !== undefined && typeof shell !== "boolean") {
      checkString(shell, "execFile", "options.shell");
    }
    return run(ctx, file, argv, o, shell === undefined ? false : shell);
  } catch (err) {
    return Promise.reject(err);
  }
}

function run(
  ctx: Context,
  file: string,
  args: readonly string[],
  o: OptionsReader<OutputOptions & { shell?: unknown }>,
  shell: boolean | string,
): Promise<ExecResult> {
  const stop = escalation(o);
  const mode = treeMode(o);
  const { encoding, maxBuffer, input } = outputOptions(o);
  const {
    graceMs: _graceMs,
    killSignal: _killSignal,
    tree: _tree,
    encoding: _encoding,
    maxBuffer: _maxBuffer,
    input: _input,
    shell: _shell,
    ...nodeOptions
  } = o.given;
  let launched: Launched | undefined;
  let output: Output | undefined;
  // Started inside the race, not before it: a deadline that comes due during the spawn (a fork
  // takes milliseconds) must still find the child to stop.
  const start = (): Promise<ProcessExit> => {
    const child = new Launched(
      file,
      args,
      { ...nodeOptions, shell, stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"] },
      stop,
      mode,
    );
    launched = child;
    output = new Output(child.child, maxBuffer, encoding, () => void child.stop());
    if (input !== undefined && child.child.stdin !== null) {
      // EPIPE when the child exits without reading it all: its exit status tells how it went.
      child.child.stdin.on("error", () => {});
      child.child.stdin.end(input);
    }
    return Promise.race([child.closed, output.overflow]);
  };
  return raceContext(ctx, start, () => void launched?.stop()).then(
    (exit) => ({ ...output!.read(), code: exit.code, signal: exit.signal }),
    (err: unknown) => {
      const ended = ctx.err;
      if (ended === undefined || err !== ended) throw err;
      throw withOutput(ended, output?.read() ?? NO_OUTPUT);
    },
  );
}
