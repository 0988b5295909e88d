import { type ChildProcess, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import type { Socket } from "node:net";
import { HAS_PROC, isProcessRunning, processStartTime } from "./proc-stat.js";
import { WATCHDOG_GRACE_MS, WATCHDOG_KILL_WAIT_MS, WATCHDOG_SCRIPT } from "./watchdog-script.js";

/**
 * Something this process must not leave behind (a server, a data folder), until
 * {@link Guard.release} says it was cleaned up normally.
 *
 * @internal
 */
export interface Guard {
  /**
   * Settles once a watchdog holds it: rejects if the watchdog could not be started, in which case
   * only this process's own `exit` would clean up.
   */
  readonly watched: Promise<void>;
  /** It was stopped or removed normally: forget it. Idempotent. */
  release(): void;
}

type Entry =
  | {
      readonly op: "watch";
      readonly id: number;
      readonly pid: number;
      readonly start: string | undefined;
      readonly signal: NodeJS.Signals;
    }
  | { readonly op: "watch"; readonly id: number; readonly path: string };

const entries = new Map<number, Entry>();
let nextId = 1;
let watchdog: Watchdog | undefined;

/**
 * Makes sure `child` does not outlive this process: if it still runs when this process exits
 * (`exit` event: a natural end, `process.exit()`, an uncaught exception) or dies (any signal,
 * SIGKILL included), it gets `signal`, then SIGKILL after {@link WATCHDOG_GRACE_MS}.
 *
 * @internal
 */
export function guardProcess(child: ChildProcess, signal: NodeJS.Signals): Guard {
  const pid = child.pid;
  if (pid === undefined) throw new Error("guardProcess: the child has no pid (it did not start)");
  return guard({ op: "watch", id: nextId++, pid, start: processStartTime(pid), signal });
}

/**
 * Makes sure folder `path` does not outlive this process: it is removed when this process exits
 * or dies, after the guarded processes are gone.
 *
 * @internal
 */
export function guardFolder(path: string): Guard {
  return guard({ op: "watch", id: nextId++, path });
}

/**
 * The watchdog's pid while one runs (for tests).
 *
 * @internal
 */
export function watchdogPid(): number | undefined {
  return watchdog?.child.pid;
}

function guard(entry: Entry): Guard {
  if (entries.size === 0) process.on("exit", cleanUpNow);
  entries.set(entry.id, entry);
  let dog = watchdog;
  if (dog === undefined) {
    dog = watchdog = new Watchdog();
    for (const e of entries.values()) dog.send(e);
  } else {
    dog.send(entry);
  }
  return {
    watched: dog.started,
    release() {
      if (!entries.delete(entry.id)) return;
      watchdog?.send({ op: "forget", id: entry.id });
      if (entries.size > 0) return;
      process.off("exit", cleanUpNow);
      // Nothing left to watch: the watchdog exits when its input ends.
      watchdog?.close();
      watchdog = undefined;
    },
  };
}

/**
 * A detached `node` that reads {@link WATCHDOG_SCRIPT}'s messages from a pipe and cleans up
 * whatever is still watched when the pipe ends, which the kernel does when this process dies.
 * Its own session, so a Ctrl-C in the terminal reaches this process, not the watchdog.
 */
class Watchdog {
  readonly child: ChildProcess;
  readonly started: Promise<void>;

  constructor() {
    this.child = spawn(process.execPath, ["-e", WATCHDOG_SCRIPT], {
      detached: true,
      stdio: ["pipe", "ignore", "ignore"],
      cwd: "/",
      // Nothing of this process's environment (NODE_OPTIONS, coverage, loaders); under
      // Electron, execPath is the app, which this makes behave as node.
      env: { ELECTRON_RUN_AS_NODE: "1" },
    });
    this.child.unref();
    const input = this.child.stdin as Socket;
    input.unref();
    input.on("error", () => {}); // EPIPE once it is gone: "exit" below says so
    this.started = new Promise((resolve, reject) => {
      this.child.once("spawn", resolve);
      this.child.once("error", (err) =>
        reject(
          new Error(
            `could not start the watchdog process (${process.execPath}: ${err.message}) that ` +
              "stops the servers and removes their folders if this process dies",
            { cause: err },
          ),
        ),
      );
    });
    this.started.catch(() => {}); // a guard's `watched` reports it
    const gone = (): void => {
      if (watchdog === this) watchdog = undefined; // the next guard starts another
    };
    this.child.once("exit", gone);
    this.child.once("error", gone);
  }

  get running(): boolean {
    const pid = this.child.pid;
    return pid !== undefined && this.child.exitCode === null && isProcessRunning(pid);
  }

  send(message: Entry | { readonly op: "forget"; readonly id: number }): void {
    const input = this.child.stdin;
    if (input !== null && !input.destroyed) input.write(`${JSON.stringify(message)}\n`);
  }

  close(): void {
    this.child.stdin?.end();
  }

  /** Ends its input now (the file descriptor closes synchronously) so that it cleans up. */
  closeNow(): void {
    this.child.stdin?.destroy();
  }
}

/**
 * This process is exiting with guarded things left (its `exit` event: stop() was not called, or
 * `process.exit()`, or an uncaught exception). Cleans up before it is gone, synchronously: the
 * watchdog does the work, so that it is done one way whatever the end; without one, this does
 * what it can without it.
 */
function cleanUpNow(): void {
  const dog = watchdog;
  watchdog = undefined;
  if (dog?.running === true) {
    dog.closeNow();
    // Without /proc a zombie cannot be told from a running process: it finishes after we go.
    if (!HAS_PROC) return;
    const pid = dog.child.pid as number;
    waitSync(() => !isProcessRunning(pid), WATCHDOG_GRACE_MS + WATCHDOG_KILL_WAIT_MS + 1000);
    return;
  }
  const left = [...entries.values()];
  for (const e of left) if ("pid" in e) kill(e.pid, e.start, "SIGKILL");
  waitSync(
    () => left.every((e) => !("pid" in e) || !isProcessRunning(e.pid, e.start)),
    WATCHDOG_KILL_WAIT_MS,
  );
  for (const e of left) {
    if ("path" in e) rmSync(e.path, { recursive: true, force: true, maxRetries: 10 });
  }
}

function kill(pid: number, start: string | undefined, signal: NodeJS.Signals): void {
  if (!isProcessRunning(pid, start)) return;
  try {
    process.kill(pid, signal);
  } catch {
    // gone meanwhile
  }
}

/** Blocks until `done()` or `ms` pass, checking every 10 ms (an exit handler cannot await). */
function waitSync(done: () => boolean, ms: number): void {
  const until = performance.now() + ms;
  const cell = new Int32Array(new SharedArrayBuffer(4));
  while (!done() && performance.now() < until) Atomics.wait(cell, 0, 0, 10);
}
