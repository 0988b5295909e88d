import { closeSync, openSync, readFileSync, readSync, readdirSync } from "node:fs";

/** @internal One process as the Linux process table (`/proc/<pid>/stat`) shows it. */
export interface ProcEntry {
  readonly pid: number;
  /** One letter: `R` running, `S` sleeping, `Z` zombie (exited, not yet reaped), ... */
  readonly state: string;
  readonly pgid: number;
}

/**
 * @internal Whether this system has a readable Linux-style process table. Not public API; the lab,
 * the benchmarks and the tests use it too.
 */
export function hasProcTable(): boolean {
  try {
    readFileSync("/proc/self/stat", "latin1");
    return true;
  } catch {
    return false;
  }
}

/**
 * @internal Every process in `/proc` that `keep` accepts. Processes that exit while the table is
 * read are skipped. Synchronous on purpose: a scan costs about 10 µs per process, and callers pace
 * their scans by what the last one cost.
 */
export function scanProcesses(keep: (entry: ProcEntry) => boolean): ProcEntry[] {
  const found: ProcEntry[] = [];
  for (const pid of pids()) {
    const entry = readEntry(pid);
    if (entry !== undefined && keep(entry)) found.push(entry);
  }
  return found;
}

/**
 * @internal Zombies have exited: nothing runs, no signal reaches them, and they leave the table
 * only once their parent (often PID 1 in a container, which may reap slowly or never) collects
 * them.
 */
export function isRunning(entry: ProcEntry): boolean {
  return entry.state !== "Z" && entry.state !== "X";
}

/**
 * @internal The running processes whose environment holds `entry` (`NAME=value`): every descendant
 * of a child started with that variable, wherever it was reparented, unless it cleared its
 * environment or runs as another user (its environment cannot be read). How `tree: "descendants"`,
 * the lab, the benchmark and the tests find what a process group does not hold. Not public API.
 */
export function runningWithEnv(entry: string): ProcEntry[] {
  const needle = Buffer.from(entry);
  const found: ProcEntry[] = [];
  for (const pid of pids()) {
    // The environment first: a zombie's reads empty, and most processes fail here, so only the
    // few that match have their stat read.
    const environ = readProcFile(pid, "environ");
    if (environ === undefined || !holdsEntry(environ, needle)) continue;
    const entry = readEntry(pid);
    if (entry !== undefined && isRunning(entry)) found.push(entry);
  }
  return found;
}

function pids(): string[] {
  return readdirSync("/proc").filter((name) => {
    const code = name.charCodeAt(0);
    return code >= 48 && code <= 57;
  });
}

function readEntry(pid: string): ProcEntry | undefined {
  const bytes = readProcFile(pid, "stat");
  if (bytes === undefined) return undefined; // it exited meanwhile
  const stat = bytes.toString("latin1");
  // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so cut at the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ", 3);
  return { pid: Number(pid), state: fields[0] ?? "?", pgid: Number(fields[2]) };
}

/** Whether the NUL-separated `environ` holds `entry` as one whole entry. */
function holdsEntry(environ: Buffer, entry: Buffer): boolean {
  for (let at = environ.indexOf(entry); at !== -1; at = environ.indexOf(entry, at + 1)) {
    const end = at + entry.length;
    if ((at === 0 || environ[at - 1] === 0) && (end === environ.length || environ[end] === 0)) {
      return true;
    }
  }
  return false;
}

/** Reused by every read: a scan opens hundreds of small files, one at a time. */
const scratch = Buffer.allocUnsafe(16 * 1024);

/**
 * `/proc/<pid>/<file>` whole, or undefined when it cannot be read (the process exited, or runs as
 * another user). The bytes are valid until the next call: they usually live in `scratch`.
 * Faster than readFileSync, which stats the file and allocates for each one.
 */
function readProcFile(pid: string, file: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(`/proc/${pid}/${file}`, "r");
  } catch {
    return undefined;
  }
  try {
    let buffer = scratch;
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        const bigger = Buffer.allocUnsafe(buffer.length * 2); // a large environment: kept for this read only
        buffer.copy(bigger, 0, 0, length);
        buffer = bigger;
      }
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) return buffer.subarray(0, length);
      length += read;
    }
  } catch {
    return undefined; // it exited between open and read
  } finally {
    closeSync(fd);
  }
}
