/**
 * How long the watchdog waits for a process it signalled before it sends SIGKILL.
 *
 * @internal
 */
export const WATCHDOG_GRACE_MS = 5000;

/**
 * How long it waits after SIGKILL before it removes the folders anyway.
 *
 * @internal
 */
export const WATCHDOG_KILL_WAIT_MS = 2000;

/**
 * The program of the watchdog (see `leftovers.ts`), run as `node -e WATCHDOG_SCRIPT`: source
 * text, so that it runs the same from `src` under tsx, from the ESM build and from the CommonJS
 * build, with no file to locate.
 *
 * Its standard input is a pipe from the process it watches, which writes one JSON object a line:
 * - `{"op":"watch","id":1,"pid":123,"start":"4567","signal":"SIGQUIT"}`: a process to stop
 *   (`start` is its start time from `/proc/<pid>/stat`, so that a reused pid is never hit);
 * - `{"op":"watch","id":2,"path":"/tmp/timebound-pg-x"}`: a folder to remove;
 * - `{"op":"forget","id":1}`: it was cleaned up normally.
 *
 * The pipe ends when that process ends, however it ends (a signal, SIGKILL, a crash in native
 * code), or when it closes the pipe because nothing is left to watch. The watchdog then sends
 * each process still watched its signal, waits for them to go (SIGKILL after
 * {@link WATCHDOG_GRACE_MS}), removes the folders and exits.
 *
 * @internal
 */
export const WATCHDOG_SCRIPT = String.raw`"use strict";
const fs = require("node:fs");
const GRACE_MS = ${WATCHDOG_GRACE_MS};
const KILL_WAIT_MS = ${WATCHDOG_KILL_WAIT_MS};
const POLL_MS = 10;
const watched = new Map();
let pending = "";
let cleaning = false;

function onLine(line) {
  let message;
  try {
    message = JSON.parse(line);
  } catch {
    return;
  }
  if (message.op === "watch") watched.set(message.id, message);
  else if (message.op === "forget") watched.delete(message.id);
}

const hasProc = fs.existsSync("/proc/self/stat");

// Whether the watched process still runs: gone, a zombie, or a new process with its pid is not it.
function running(entry) {
  if (!hasProc) return signal(entry.pid, 0);
  let stat;
  try {
    stat = fs.readFileSync("/proc/" + entry.pid + "/stat", "latin1");
  } catch {
    return false;
  }
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  if (fields[0] === "Z" || fields[0] === "X") return false;
  return entry.start === undefined || fields[19] === entry.start;
}

function signal(pid, name) {
  try {
    process.kill(pid, name);
    return true;
  } catch {
    return false;
  }
}

function cleanUp() {
  if (cleaning) return;
  cleaning = true;
  const entries = [...watched.values()];
  const processes = entries.filter((e) => e.pid !== undefined && running(e));
  for (const p of processes) signal(p.pid, p.signal);
  const started = Date.now();
  let killed = false;
  const check = () => {
    const left = processes.filter(running);
    const waited = Date.now() - started;
    if (left.length > 0 && waited < GRACE_MS + KILL_WAIT_MS) {
      if (!killed && waited >= GRACE_MS) {
        killed = true;
        for (const p of left) signal(p.pid, "SIGKILL");
      }
      setTimeout(check, POLL_MS);
      return;
    }
    for (const e of entries) {
      if (e.path === undefined) continue;
      try {
        fs.rmSync(e.path, { recursive: true, force: true, maxRetries: 10, retryDelay: 20 });
      } catch {
        // nobody is left to tell
      }
    }
    process.exit(0);
  };
  check();
}

process.stdin.setEncoding("utf8");
process.stdin.on("data", (text) => {
  const lines = (pending + text).split("\n");
  pending = lines.pop();
  for (const line of lines) onLine(line);
});
process.stdin.on("end", cleanUp);
process.stdin.on("error", cleanUp);
`;
