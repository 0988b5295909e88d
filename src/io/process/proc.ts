import { readFileSync, readdirSync } from "node:fs";

/** One process as the Linux process table (`/proc/<pid>/stat`) shows it. */
export interface ProcEntry {
  readonly pid: number;
  /** One letter: `R` running, `S` sleeping, `Z` zombie (exited, not yet reaped), ... */
  readonly state: string;
  readonly pgid: number;
}

/** Whether this system has a readable Linux-style process table. */
export function hasProcTable(): boolean {
  try {
    readFileSync("/proc/self/stat", "latin1");
    return true;
  } catch {
    return false;
  }
}

/**
 * Every process in `/proc` that `keep` accepts. Processes that exit while the table is read are
 * skipped. Synchronous on purpose: a scan of a few hundred entries takes a millisecond or two,
 * and callers pace their scans by what the last one cost.
 */
export function scanProcesses(keep: (entry: ProcEntry) => boolean): ProcEntry[] {
  const found: ProcEntry[] = [];
  for (const name of readdirSync("/proc")) {
    const code = name.charCodeAt(0);
    if (code < 48 || code > 57) continue; // not a pid
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, "latin1");
    } catch {
      continue; // it exited meanwhile
    }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so cut at the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ", 3);
    const entry = { pid: Number(name), state: fields[0] ?? "?", pgid: Number(fields[2]) };
    if (keep(entry)) found.push(entry);
  }
  return found;
}

/**
 * Zombies have exited: nothing runs, no signal reaches them, and they leave the table only once
 * their parent (often PID 1 in a container, which may reap slowly or never) collects them.
 */
export function isRunning(entry: ProcEntry): boolean {
  return entry.state !== "Z" && entry.state !== "X";
}

/**
 * The running processes whose environment holds `entry` (`NAME=value`): every descendant of a
 * child started with that variable, wherever it was reparented, unless it cleared its environment.
 * How the lab, the benchmark and the tests find what plain `child_process` left behind.
 */
export function runningWithEnv(entry: string): ProcEntry[] {
  return scanProcesses((p) => isRunning(p) && hasEnvEntry(p.pid, entry));
}

function hasEnvEntry(pid: number, entry: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, "latin1").split("\0").includes(entry);
  } catch {
    return false; // exited meanwhile, or another user's
  }
}
