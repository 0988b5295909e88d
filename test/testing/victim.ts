// Runs test/testing/fixtures/victim.ts in a process of its own and finds what it left behind.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { runningWithEnv } from "../../src/io/process/proc.js";
import { isProcessRunning, processStartTime } from "../../src/testing/proc-stat.js";

const FIXTURE = join(import.meta.dirname, "fixtures", "victim.ts");

/** What the victim printed when its servers were up. */
export interface VictimReport {
  readonly pgPid: number;
  readonly redisPid: number;
  readonly directory: string;
  readonly watchdogPid: number;
  readonly pgUrl: string;
}

/** A process as it was seen: its pid and start time, so that a reused pid is not mistaken for it. */
interface Seen {
  readonly what: string;
  readonly pid: number;
  readonly start: string | undefined;
}

/** Pids of the children of `parent`, from the process table. */
function childrenOf(parent: number): number[] {
  const found: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "latin1");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === parent) found.push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

function seen(what: string, pid: number): Seen {
  return { what, pid, start: processStartTime(pid) };
}

let nextMarker = 0;

/** One run of the victim: its process, what it reported, and its lines after that. */
export class Victim {
  readonly child: ChildProcess;
  /** Every process it started carries this environment entry (the watchdog excepted). */
  readonly marker = `TIMEBOUND_TEST_VICTIM=${process.pid}-${nextMarker++}`;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly lines: string[] = [];
  private stderr = "";
  private waiting: (() => void) | undefined;
  private readonly seen: Seen[] = [];
  private directory = "";

  constructor(mode: string) {
    const [name, value] = this.marker.split("=") as [string, string];
    this.child = spawn(process.execPath, ["--import", "tsx", FIXTURE, mode], {
      env: { ...process.env, [name]: value },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let partial = "";
    this.child.stdout?.on("data", (chunk: Buffer) => {
      const parts = (partial + chunk.toString()).split("\n");
      partial = parts.pop() ?? "";
      this.lines.push(...parts);
      this.waiting?.();
    });
    this.child.stderr?.on("data", (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) =>
      this.child.once("exit", (code, signal) => {
        this.waiting?.();
        resolve({ code, signal });
      }),
    );
  }

  /** The `index`th JSON line it printed, within `ms`. */
  async line(index: number, ms = 30_000): Promise<Record<string, unknown>> {
    const until = performance.now() + ms;
    while (this.lines.length <= index) {
      const exited = this.child.exitCode !== null || this.child.signalCode !== null;
      assert.ok(
        !exited && performance.now() < until,
        `victim line ${index}; stderr:\n${this.stderr}`,
      );
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
        void delay(100).then(resolve);
      });
    }
    return JSON.parse(this.lines[index] as string) as Record<string, unknown>;
  }

  /**
   * What it printed once its servers were up. Its processes are noted then: both servers, the
   * postmaster's children (which run as other sessions) and the watchdog.
   */
  async report(): Promise<VictimReport> {
    const report = (await this.line(0)) as unknown as VictimReport;
    this.seen.push(
      seen("postgres", report.pgPid),
      seen("redis-server", report.redisPid),
      seen("watchdog", report.watchdogPid),
      ...childrenOf(report.pgPid).map((pid) => seen("postgres child", pid)),
    );
    this.directory = report.directory;
    return report;
  }

  /** Its exit, within `ms`. */
  async exit(ms = 15_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const result = await Promise.race([this.exited, delay(ms).then(() => undefined)]);
    assert.ok(result !== undefined, `the victim did not exit within ${ms} ms`);
    return result;
  }

  /**
   * What still exists of what it started: the processes noted by {@link report} (zombies do not
   * count: they have exited), any other process that carries its marker, and the data folder.
   */
  leftovers(): string[] {
    const left = this.seen
      .filter((p) => isProcessRunning(p.pid, p.start))
      .map((p) => `${p.what} ${p.pid}`);
    for (const p of runningWithEnv(this.marker)) {
      if (p.pid !== this.child.pid && !this.seen.some((s) => s.pid === p.pid)) {
        left.push(`process ${p.pid}`);
      }
    }
    if (this.directory !== "" && existsSync(this.directory)) left.push(`folder ${this.directory}`);
    return left;
  }

  /** Waits up to `ms` for {@link leftovers} to be empty; returns what is left then. */
  async leftoversAfter(ms: number): Promise<string[]> {
    const until = performance.now() + ms;
    let left = this.leftovers();
    while (left.length > 0 && performance.now() < until) {
      await delay(20);
      left = this.leftovers();
    }
    return left;
  }

  /** Cleanup after a failed test: SIGKILLs whatever it started that still runs, removes the folder. */
  killAll(): void {
    const pids = [
      ...this.seen.filter((p) => isProcessRunning(p.pid, p.start)).map((p) => p.pid),
      ...runningWithEnv(this.marker).map((p) => p.pid),
    ];
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone meanwhile
      }
    }
    if (this.directory !== "") {
      rmSync(this.directory, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
    }
  }
}
