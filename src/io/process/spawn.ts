import type { Context } from "../../core/index.js";
import { checkContext, checkString } from "../../core/internal.js";
import type { ChildProcess } from "node:child_process";
import { raceContext } from "../race.js";
import { type ProcessExit, Launched } from "./launch.js";
import { type SpawnOptions, checkArgs, escalation, processOptions, treeMode } from "./options.js";
import type { ProcessStop } from "./terminate.js";

/**
 * A child process bound to a context, as {@link spawn} returns it.
 *
 * @example
 * ```ts
 * const p = spawn(ctx, "tail", ["-f", logFile]);
 * p.child.stdout?.pipe(process.stdout);
 * await p.exited.catch(() => {}); // ends when ctx does
 * await p.stopped; // and now nothing of it runs
 * ```
 */
export interface ContextProcess {
  /** Node's child process: its stdio streams, `pid`, `send()`, `unref()`. */
  readonly child: ChildProcess;
  /**
   * Resolves with the exit code or signal once the child has exited and its stdio has closed.
   * Rejects with `ctx.err` as soon as the context ends (the process group is being stopped by
   * then), or with the error that kept the child from starting (ENOENT...). Rejections are
   * marked handled: a caller that only reads the streams need not await it.
   */
  readonly exited: Promise<ProcessExit>;
  /**
   * Resolves once the child is done, and says how: it ended by itself (`"exited"`), or the
   * context's end stopped its tree, which was gone after the first signal (`"terminated"`) or
   * after SIGKILL (`"killed"`), or not even then (`"survived"`). Never rejects. It speaks of the
   * processes {@link StopOptions.tree} covers: with `"group"`, a process that left the group may
   * still run.
   */
  readonly stopped: Promise<ProcessStop>;
}

/**
 * Starts `command` as `child_process.spawn` would, bound to `ctx`: the child leads its own
 * process group, and when `ctx` ends the whole group gets `killSignal` (SIGTERM), then SIGKILL
 * after `graceMs` (2000 ms) if anything of it is still running. That reaches what the child
 * started too: the commands of a `shell: true` string, grandchildren that ignore SIGTERM.
 * `exited` rejects with `ctx.err` at once, and this side of the child's stdio is closed.
 *
 * A process that left the group (`setsid cmd &`, a daemon) is not reached by default and keeps
 * running; on Linux, `tree: "descendants"` stops it too, found by a mark in its environment
 * (see {@link StopOptions.tree} for the cost and what still escapes).
 *
 * Throws at once on bad arguments, and throws `ctx.err` if `ctx` has already ended: nothing is
 * started. (It returns a handle, not a promise; its promises never reject unhandled.) Once the
 * child has exited and its stdio has closed by itself, nothing stays linked to `ctx`, and
 * processes it left running on purpose are left alone. POSIX only for the group: on Windows the
 * child alone is killed.
 *
 * @example
 * ```ts
 * using ctx = withTimeout(parent, 30_000, { name: "build" });
 * const build = spawn(ctx, "npm run build && npm test", [], { shell: true, stdio: "inherit" });
 * const { code } = await build.exited; // DeadlineExceeded after 30 s, with the whole tree gone soon after
 * ```
 */
export function spawn(
  ctx: Context,
  command: string,
  args?: readonly string[],
  options?: SpawnOptions,
): ContextProcess {
  checkContext(ctx, "spawn");
  checkString(command, "spawn", "command");
  const argv = checkArgs("spawn", args);
  const o = processOptions(options, "spawn");
  const stop = escalation(o);
  const mode = treeMode(o);
  const { graceMs: _graceMs, killSignal: _killSignal, tree: _tree, ...nodeOptions } = o.given;
  let launched: Launched | undefined;
  let startError: unknown;
  // Started inside the race, not before it: a deadline that comes due during the spawn (a fork
  // takes milliseconds) must still find the child to stop.
  const start = (): Promise<ProcessExit> => {
    try {
      launched = new Launched(command, argv, nodeOptions, stop, mode);
    } catch (err) {
      startError = err; // Node refused an option: thrown below, as Node's own spawn does
      throw err;
    }
    return launched.closed;
  };
  const exited = raceContext(ctx, start, () => void launched?.stop());
  exited.catch(() => {}); // handled here; whoever awaits it still sees the rejection
  if (launched === undefined) {
    ctx.throwIfDone(); // it ended before anything was started
    throw startError;
  }
  return { child: launched.child, exited, stopped: launched.stopped };
}
