import { readFileSync } from "node:fs";

/**
 * Whether this system has Linux's `/proc/<pid>/stat`.
 *
 * @internal
 */
export const HAS_PROC = (() => {
  try {
    readFileSync("/proc/self/stat", "latin1");
    return true;
  } catch {
    return false;
  }
})();

/** The fields of `/proc/<pid>/stat` after the command name, or undefined if it cannot be read. */
function statFields(pid: number): string[] | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return undefined;
  }
  // "pid (comm) state ...": comm may hold spaces and parentheses, so cut at the last ")".
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/**
 * When process `pid` started (field 22 of `/proc/<pid>/stat`, in clock ticks since boot), or
 * undefined without `/proc`. With its pid, it names one process: a pid is reused, not both.
 *
 * @internal
 */
export function processStartTime(pid: number): string | undefined {
  return HAS_PROC ? statFields(pid)?.[19] : undefined;
}

/**
 * Whether process `pid` still runs: it is not gone, not a zombie (it exited, its parent has not
 * collected it yet), and, given `start`, not another process that got the same pid. Without
 * `/proc`, whether a signal can reach it (zombies included).
 *
 * @internal
 */
export function isProcessRunning(pid: number, start?: string): boolean {
  if (!HAS_PROC) {
    try {
      process.kill(pid, 0);
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === "EPERM";
    }
  }
  const fields = statFields(pid);
  if (fields === undefined || fields[0] === "Z" || fields[0] === "X") return false;
  return start === undefined || fields[19] === start;
}
