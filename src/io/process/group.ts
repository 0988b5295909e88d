import type { ChildProcess } from "node:child_process";
import { hasProcTable, isRunning, scanProcesses } from "./proc.js";

/**
 * Whether children can be started in a process group of their own and the group signalled as
 * one (every POSIX system; not Windows, where `detached` means a new console instead). Where it
 * is false, a context's end kills the child alone (`child.kill()`), not what it started.
 *
 * @example
 * ```ts
 * if (!PROCESS_GROUPS) log.warn("Windows: grandchildren of timed-out commands may live on");
 * ```
 */
export const PROCESS_GROUPS = process.platform !== "win32";

/**
 * @internal What a termination acts on: a whole process group, or on Windows the one child process.
 */
export interface ProcessTree {
  /** Sends `signal` to every process of the tree; false when nothing was there to receive it. */
  signal(signal: NodeJS.Signals | number): boolean;
  /** Whether any process of the tree is still running. */
  alive(): boolean;
}

let procTable: boolean | undefined;

/**
 * @internal Sends `signal` to process group `pgid`: `kill(-pgid, signal)`. Returns false when the
 * group has no process left (ESRCH). Any other failure (EPERM: a member runs as another user)
 * counts as "still there": the caller's deadlines bound how long it waits for such a group.
 */
export function signalGroup(pgid: number, signal: NodeJS.Signals | number): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

/**
 * @internal Whether any process of group `pgid` is still running. `kill(-pgid, 0)` alone would
 * count zombies (exited, not yet reaped by PID 1) as alive, so on Linux a group that answers it is
 * checked against the process table. Not public API: the benchmarks use it too (through
 * timebound/testing once it is offered there).
 */
export function groupAlive(pgid: number): boolean {
  if (!signalGroup(pgid, 0)) return false;
  procTable ??= hasProcTable();
  if (!procTable) return true;
  return scanProcesses((p) => p.pgid === pgid && isRunning(p)).length > 0;
}

/**
 * @internal The process group a child leads (it was spawned `detached`, so its pid is its pgid).
 */
export class ProcessGroup implements ProcessTree {
  constructor(
    readonly pgid: number,
    readonly leader: ChildProcess,
  ) {}

  signal(signal: NodeJS.Signals | number): boolean {
    return signalGroup(this.pgid, signal);
  }

  alive(): boolean {
    // While Node has not seen the leader exit, the group is alive: no syscall, no table scan.
    return !hasExited(this.leader) || groupAlive(this.pgid);
  }
}

/** @internal The Windows fallback: the child alone; its own children are not reached. */
export class SingleProcess implements ProcessTree {
  constructor(readonly child: ChildProcess) {}

  signal(signal: NodeJS.Signals | number): boolean {
    if (hasExited(this.child)) return false;
    this.child.kill(signal);
    return true;
  }

  alive(): boolean {
    return !hasExited(this.child);
  }
}

/** @internal Whether Node has reaped `child` (its `exit` event has fired). */
export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}
