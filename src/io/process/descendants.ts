import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { PROCESS_GROUPS, type ProcessTree, groupAlive, hasExited, signalGroup } from "./group.js";
import { hasProcTable, runningWithEnv } from "./proc.js";

/**
 * Whether `tree: "descendants"` works here: process groups, and a Linux `/proc` whose
 * `/proc/<pid>/environ` shows each process's environment (Linux; not macOS, not Windows).
 *
 * @example
 * ```ts
 * const tree = PROCESS_DESCENDANTS ? "descendants" : "group";
 * await exec(ctx, "./start-and-detach.sh", { tree });
 * ```
 */
export const PROCESS_DESCENDANTS: boolean = PROCESS_GROUPS && hasProcTable();

/**
 * The variable that marks every process of one child. Its name, not only its value, is unique,
 * so that the marks of nested trees (a marked Node process that starts marked children of its
 * own) live side by side and each outer tree still finds the inner processes.
 */
const MARK_PREFIX = "TIMEBOUND_PROCESS_TREE_";
/** Unique to this process: a counter alone would repeat in a later process given the same pid. */
const MARK_SALT = randomBytes(6).toString("hex").toUpperCase();
let marksMade = 0;

/**
 * How many scans one `signal` may make: a process that forks between a scan and its signal has a
 * child the scan missed, which the next scan finds. Bounded, so that a fork loop cannot hold it.
 */
const SIGNAL_SCANS = 3;

/**
 * @internal The process group a child leads, and every process that carries the child's mark in its
 * environment wherever it went: a daemon that called `setsid` and was re-parented to init is
 * found by its mark, not by its ancestry. What it cannot reach: a process that cleared or
 * replaced its environment (`env -i`, `sudo`), and one run by another user.
 */
export class ProcessDescendants implements ProcessTree {
  /** `NAME=value`, as `/proc/<pid>/environ` lists it. */
  readonly mark: string;
  readonly markName: string;

  constructor(
    readonly pgid: number,
    readonly leader: ChildProcess,
    markName: string,
  ) {
    this.markName = markName;
    this.mark = `${markName}=1`;
  }

  /**
   * Signals the group (one `kill(-pgid)`), then each marked process outside it, once each: a
   * process group member is not signalled twice (for many programs, a second SIGINT means "stop
   * now, skip the cleanup").
   */
  signal(signal: NodeJS.Signals | number): boolean {
    let reached = signalGroup(this.pgid, signal);
    const signalled = new Set<number>();
    for (let scan = 0; scan < SIGNAL_SCANS; scan++) {
      const missed = runningWithEnv(this.mark).filter(
        (p) => p.pgid !== this.pgid && !signalled.has(p.pid),
      );
      if (missed.length === 0) break;
      for (const { pid } of missed) {
        signalled.add(pid);
        if (signalProcess(pid, signal)) reached = true;
      }
    }
    return reached;
  }

  alive(): boolean {
    // Group members carry the mark too, unless they cleared their environment: then the group is asked.
    return !hasExited(this.leader) || runningWithEnv(this.mark).length > 0 || groupAlive(this.pgid);
  }
}

/** @internal A fresh mark's variable name; the child's environment gets `<name>=1`. */
export function newMarkName(): string {
  return `${MARK_PREFIX}${MARK_SALT}_${(marksMade++).toString(36).toUpperCase()}`;
}

/** `kill(pid, signal)`; false when the process is gone (ESRCH), true otherwise (EPERM included). */
function signalProcess(pid: number, signal: NodeJS.Signals | number): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== "ESRCH";
  }
}
