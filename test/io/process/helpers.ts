// Shared by the process tests: what is still running, looked up in the process table itself.
import assert from "node:assert/strict";
import { after } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { ContextError } from "../../../src/index.js";
import { isRunning, runningWithEnv, scanProcesses } from "../../../src/io/process/proc.js";

/** Pids of group `pgid` that are still running (zombies have exited: they do not count). */
export function groupMembers(pgid: number): number[] {
  return scanProcesses((p) => p.pgid === pgid && isRunning(p)).map((p) => p.pid);
}

/** Whether process `pid` is running (not gone, not a zombie). */
export function isPidRunning(pid: number): boolean {
  return scanProcesses((p) => p.pid === pid && isRunning(p)).length > 0;
}

/** Polls `condition` every 5 ms until it holds or `ms` pass; returns its last value. */
export async function waitFor(condition: () => boolean, ms: number): Promise<boolean> {
  const until = performance.now() + ms;
  while (!condition()) {
    if (performance.now() >= until) return false;
    await delay(5);
  }
  return true;
}

/**
 * An environment variable unique to one test, so that every process it starts (and whatever
 * those start) can be found in the process table afterwards.
 */
export class Marker {
  private static next = 0;
  private readonly value = `${process.pid}-${Marker.next++}`;
  readonly entry = `TIMEBOUND_TEST_MARKER=${this.value}`;
  readonly env: NodeJS.ProcessEnv = { ...process.env, TIMEBOUND_TEST_MARKER: this.value };

  /** Pids of the processes started with this marker that still run. */
  running(): number[] {
    return runningWithEnv(this.entry).map((p) => p.pid);
  }

  /** SIGKILLs whatever still runs with this marker (cleanup after a failed test). */
  killAll(): void {
    for (const pid of this.running()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone meanwhile
      }
    }
  }
}

/**
 * A maker of {@link Marker}s for one test file: whatever still runs with one of them when the
 * file's tests are over is killed (that matters only if a test failed half-way).
 */
export function markerMaker(): () => Marker {
  const made: Marker[] = [];
  after(() => {
    for (const m of made) m.killAll();
  });
  return () => {
    const m = new Marker();
    made.push(m);
    return m;
  };
}

/** Milliseconds since a context's deadline (negative before it). */
export function sinceDeadline(deadline: number | undefined): number {
  if (deadline === undefined) throw new Error("the context has no deadline");
  return performance.now() - deadline;
}

/**
 * How late after its context ended the caller may be released. The contract says "within a few
 * ms"; the margin covers a busy 2-core machine running other test files at the same time.
 */
export const CALLER_SLACK_MS = 50;
/** Beyond this, a deadline timer fired so late that the test run itself is in trouble. */
const TIMER_LATENESS_LIMIT_MS = 2000;

/**
 * Asserts that a caller now holding `err` was released within {@link CALLER_SLACK_MS} of its
 * context's end. Measured from when the deadline timer fired (`err.lateByMs` after the deadline):
 * on a starved machine timers fire late, which is the event loop's doing, not the adapter's.
 */
export function assertReleasedInTime(err: unknown, deadline: number | undefined): void {
  assert.ok(err instanceof ContextError, `expected the context's error, got ${String(err)}`);
  const late = sinceDeadline(deadline);
  const afterEnd = late - err.lateByMs;
  assert.ok(
    afterEnd < CALLER_SLACK_MS,
    `caller released ${afterEnd.toFixed(1)} ms after the context ended ` +
      `(${late.toFixed(1)} ms after the deadline)`,
  );
  assert.ok(late < TIMER_LATENESS_LIMIT_MS, `the deadline fired ${late.toFixed(0)} ms late`);
}
