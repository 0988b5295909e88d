// What runs on this machine, as Linux's process table says, for tests that check that a command's
// processes are gone. Independent of timebound/process's own reading of /proc on purpose: an
// observer that shared the code it checks would share its mistakes.
import { readFileSync, readdirSync } from "node:fs";
import { checkNumber, checkString } from "../core/internal.js";

/** One running process, as `/proc/<pid>/stat` shows it. */
export interface ProcessEntry {
  /** Its process id. */
  readonly pid: number;
  /** Its process group (the pid of the group's leader). */
  readonly pgid: number;
  /** One letter: `R` running, `S` sleeping, `D` in a system call... (zombies are left out). */
  readonly state: string;
}

/**
 * Whether this system has a readable Linux process table (`/proc/<pid>/stat`): the other helpers
 * of this file need one.
 *
 * @example
 * ```ts
 * it("leaves no process behind", { skip: !hasProcessTable() && "needs /proc" }, async () => {});
 * ```
 */
export function hasProcessTable(): boolean {
  return readStat(String(process.pid)) !== undefined;
}

/**
 * Whether any process of group `pgid` still runs. Zombies (exited, not yet reaped by their
 * parent) do not count: nothing runs in them and no signal reaches them.
 *
 * @example
 * ```ts
 * const child = spawn(ctx, "sh", ["-c", "sleep 30 & sleep 30"]);
 * await child.stopped;
 * assert.equal(processGroupAlive(child.child.pid!), false, "the whole group is gone");
 * ```
 */
export function processGroupAlive(pgid: number): boolean {
  checkNumber(pgid, "processGroupAlive", "pgid", { min: 1, max: 2 ** 31 - 1, integer: true });
  return running().some((p) => p.pgid === pgid);
}

/**
 * The running processes whose environment holds `entry` (`"NAME=value"`, one whole variable):
 * everything started with that variable and all it started in turn, wherever it was re-parented,
 * unless it cleared its environment or runs as another user (its environment cannot be read).
 * Mark a command with a variable of your own, then count what is left of it.
 *
 * @example
 * ```ts
 * const mark = `MY_TEST_MARK=${process.pid}`;
 * // ... run a command with env { MY_TEST_MARK: String(process.pid) } under a deadline ...
 * assert.deepEqual(processesWithEnv(mark), [], "nothing the command started still runs");
 * ```
 */
export function processesWithEnv(entry: string): ProcessEntry[] {
  checkString(entry, "processesWithEnv", "entry");
  return running().filter((p) => environmentOf(p.pid).includes(entry));
}

/** Every process of the table but zombies; those that exit while it is read are skipped. */
function running(): ProcessEntry[] {
  const found: ProcessEntry[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const entry = readStat(name);
    if (entry !== undefined && entry.state !== "Z" && entry.state !== "X") found.push(entry);
  }
  return found;
}

function readStat(pid: string): ProcessEntry | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return undefined; // exited meanwhile, or no /proc
  }
  // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so cut at the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ", 3);
  return { pid: Number(pid), state: fields[0] ?? "?", pgid: Number(fields[2]) };
}

/** The environment's variables, or none when it cannot be read. */
function environmentOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/environ`, "latin1").split("\0");
  } catch {
    return [];
  }
}
