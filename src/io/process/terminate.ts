import { now } from "../../core/index.js";
import { startTimer } from "../../core/internal.js";
import type { ProcessTree } from "./group.js";

/**
 * How the processes of a child stopped, as `stopped` reports it. "The tree" is what
 * `options.tree` covers: the child's process group (default), or with `"descendants"` also every
 * process that carries the child's mark, wherever it went. With `"group"`, a process that left the
 * group may still run whatever the outcome says.
 * - `"exited"`: the child ended by itself (or never started), or nothing of the tree was left to
 *   signal when the context ended; nothing was signalled.
 * - `"terminated"`: gone after the first signal (`killSignal`, SIGTERM by default).
 * - `"killed"`: still running when the grace period ended, so SIGKILL was sent.
 * - `"survived"`: processes were still there {@link KILL_WAIT_MS} after SIGKILL (a process in
 *   uninterruptible sleep, or one run by another user that cannot be signalled).
 *
 * @example
 * ```ts
 * const build = spawn(ctx, "make", ["-j4"]);
 * const { outcome } = await build.stopped;
 * if (outcome === "killed") log.warn("the build ignored SIGTERM");
 * ```
 */
export type ProcessStopOutcome = "exited" | "terminated" | "killed" | "survived";

/** @deprecated use {@link ProcessStopOutcome} (the same type; renamed to say what stopped). */
export type StopOutcome = ProcessStopOutcome;

/**
 * What `stopped` resolves with.
 *
 * @example
 * ```ts
 * const stop = await spawn(ctx, "./worker").stopped;
 * metrics.observe("worker_stop_ms", stop.afterMs ?? 0, { outcome: stop.outcome });
 * ```
 */
export interface ProcessStop {
  /** How the processes stopped. */
  readonly outcome: ProcessStopOutcome;
  /** Milliseconds from the first signal until no process was left; undefined when nothing was signalled, or for `"survived"`. */
  readonly afterMs: number | undefined;
}

/** @internal The first signal and how long to wait before SIGKILL. */
export interface Escalation {
  readonly killSignal: NodeJS.Signals | number;
  readonly graceMs: number;
}

/**
 * How long `stopped` waits for processes to vanish after SIGKILL before it reports `"survived"`.
 *
 * @example
 * ```ts
 * // at most graceMs + KILL_WAIT_MS after the context ended:
 * const { outcome } = await spawn(ctx, "./server").stopped;
 * ```
 */
export const KILL_WAIT_MS = 1000;
/** Upper bound of the poll interval while waiting for a tree to go. */
const MAX_POLL_MS = 50;
/** A poll may cost at most a tenth of the time between polls (a table scan on a big host). */
const POLL_COST_SHARE = 10;

/** @internal What `stopped` reports when nothing had to be stopped. */
export const EXITED: ProcessStop = { outcome: "exited", afterMs: undefined };

/** Trees being terminated right now: if this process exits meanwhile, they get SIGKILL first. */
const terminating = new Set<ProcessTree>();
let exitHookInstalled = false;

/**
 * @internal Sends `killSignal` to every process of `tree`, waits up to `graceMs` for them to go,
 * then sends SIGKILL to whatever is left. Resolves when the tree is gone (or {@link KILL_WAIT_MS}
 * after SIGKILL); never rejects. Its timers are ref'd: stopping the tree is work, as in Go, where
 * `cmd.Wait` returns only once the process is gone.
 */
export async function terminate(tree: ProcessTree, escalation: Escalation): Promise<ProcessStop> {
  watchForExit(tree);
  try {
    // The caller was released in this very turn, and is owed its continuation first: the checks
    // below may scan the process table, synchronously, for milliseconds on a busy host.
    await nextTurn();
    const start = now();
    if (!tree.signal(escalation.killSignal)) return EXITED;
    if (await vanished(tree, start + escalation.graceMs)) {
      return { outcome: "terminated", afterMs: now() - start };
    }
    if (!tree.signal("SIGKILL")) return { outcome: "terminated", afterMs: now() - start }; // just went
    const gone = await vanished(tree, now() + KILL_WAIT_MS);
    return { outcome: gone ? "killed" : "survived", afterMs: gone ? now() - start : undefined };
  } finally {
    terminating.delete(tree);
  }
}

function nextTurn(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

/** Polls `tree` until it is gone (true) or `until` passes (false), backing off to 50 ms. */
async function vanished(tree: ProcessTree, until: number): Promise<boolean> {
  let interval = 1;
  for (;;) {
    const before = now();
    if (!tree.alive()) return true;
    const after = now();
    if (after >= until) return false;
    const pause = Math.max(interval, (after - before) * POLL_COST_SHARE);
    await new Promise<void>((resolve) =>
      startTimer(() => resolve(), Math.min(pause, until - after)),
    );
    interval = Math.min(interval * 2, MAX_POLL_MS);
  }
}

/**
 * A tree whose context has ended must not outlive this process because the grace period was
 * still running when it exited: on `exit` (process.exit(), the loop running dry) it gets SIGKILL.
 */
function watchForExit(tree: ProcessTree): void {
  terminating.add(tree);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const t of terminating) t.signal("SIGKILL");
  });
}
