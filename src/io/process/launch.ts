import {
  type ChildProcess,
  type SpawnOptions as NodeSpawnOptions,
  spawn as nodeSpawn,
} from "node:child_process";
import { ProcessDescendants, newMarkName } from "./descendants.js";
import { PROCESS_GROUPS, ProcessGroup, type ProcessTree, SingleProcess } from "./group.js";
import type { ProcessTreeMode } from "./options.js";
import { EXITED, type Escalation, type ProcessStop, terminate } from "./terminate.js";

/**
 * How a child ended: its exit code, or the signal that ended it (Node's `close` arguments).
 *
 * @example
 * ```ts
 * const { code, signal } = await spawn(ctx, "make").exited;
 * if (code !== 0) throw new Error(`make failed: ${code ?? signal}`);
 * ```
 */
export interface ProcessExit {
  /** The exit code; null when a signal ended the child. */
  readonly code: number | null;
  /** The signal that ended the child; null when it exited by itself. */
  readonly signal: NodeJS.Signals | null;
}

/**
 * @internal A child started as the leader of its own process group (POSIX), with the means to stop
 * the whole group, or with `tree: "descendants"` every process that carries its mark: everything
 * `spawn`, `exec` and `execFile` share.
 */
export class Launched {
  readonly child: ChildProcess;
  /**
   * Settles once the child has exited and its stdio streams have closed (a grandchild that holds
   * stdout keeps it open), or rejects with the error that kept it from starting.
   */
  readonly closed: Promise<ProcessExit>;
  /** Resolves once nothing of the child runs any more; see {@link ProcessStop}. */
  readonly stopped: Promise<ProcessStop>;
  #stopping: Promise<ProcessStop> | undefined;
  #resolveStopped: (stop: ProcessStop) => void = () => {};
  readonly #tree: ProcessTree | undefined;
  readonly #escalation: Escalation;

  constructor(
    file: string,
    args: readonly string[],
    options: NodeSpawnOptions,
    escalation: Escalation,
    mode: ProcessTreeMode,
  ) {
    this.#escalation = escalation;
    const markName = mode === "descendants" ? newMarkName() : undefined;
    // detached: setsid() in the child, so that it leads a new process group; Node still waits
    // for it (it stays ref'd) unless the caller calls child.unref().
    this.child = nodeSpawn(file, args, {
      ...options,
      detached: PROCESS_GROUPS,
      ...(markName === undefined
        ? {}
        : { env: { ...(options.env ?? process.env), [markName]: "1" } }),
    });
    const pid = this.child.pid;
    if (pid !== undefined) {
      this.#tree = !PROCESS_GROUPS
        ? new SingleProcess(this.child)
        : markName === undefined
          ? new ProcessGroup(pid, this.child)
          : new ProcessDescendants(pid, this.child, markName);
    }
    this.closed = new Promise<ProcessExit>((resolve, reject) => {
      // Kept for the child's life: a spawn error rejects, a later one must not crash the process.
      this.child.on("error", reject);
      this.child.once("close", (code: number | null, signal: NodeJS.Signals | null) =>
        resolve({ code, signal }),
      );
    });
    this.stopped = new Promise<ProcessStop>((resolve) => (this.#resolveStopped = resolve));
    // Closed before anyone stopped it: it ended by itself. (Once stopping, stop() resolves it.)
    const exitedByItself = (): void => {
      if (this.#stopping === undefined) this.#resolveStopped(EXITED);
    };
    this.closed.then(exitedByItself, exitedByItself);
  }

  /**
   * Stops the whole tree; idempotent. Sends the first signal to the process group (and the marked
   * processes outside it) now and SIGKILL after the grace period to whatever is left, and closes this side of the child's stdio, so
   * that nobody reading it waits for a grandchild that escaped the group.
   */
  stop(): Promise<ProcessStop> {
    if (this.#stopping !== undefined) return this.#stopping;
    this.#stopping =
      this.#tree === undefined ? Promise.resolve(EXITED) : terminate(this.#tree, this.#escalation);
    for (const stream of this.child.stdio) stream?.destroy();
    void this.#stopping.then(this.#resolveStopped);
    return this.#stopping;
  }
}
