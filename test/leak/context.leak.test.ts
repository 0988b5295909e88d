// Leak tests (the runner passes --expose-gc): long runs of create + cancel under one
// long-lived parent must leave the heap, the parent's dependents and armed timers at baseline.
import { coreStats, dependents } from "../../src/core/introspect.js";
import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { describe, it } from "node:test";
import {
  Channel,
  background,
  fromSignal,
  sleep,
  withCancel,
  withTimeout,
} from "../../src/index.js";

const gc = (globalThis as { gc?: () => void }).gc;

/**
 * Heap after the event loop has turned: node:test's async hooks queue timer destroys until then,
 * and on a loaded machine one turn may not drain them (a Node 24 CI run read 7 MB still queued).
 * So: collect until two readings agree within 256 KB (at most 10 turns), and take the lower.
 */
async function heapAfterGc(): Promise<number> {
  let last = Infinity;
  for (let turn = 0; turn < 10; turn++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    gc!();
    gc!();
    const used = process.memoryUsage().heapUsed;
    if (Math.abs(used - last) < 256 * 1024) return Math.min(used, last);
    last = used;
  }
  return last;
}

/** Runs `cycle` n times (after a warm-up) and returns the heap growth in bytes. */
async function heapGrowth(n: number, cycle: () => void, warmUp = 20_000): Promise<number> {
  // Let the JIT, hidden classes and the runtime's own queues reach their working size.
  for (let i = 0; i < warmUp; i++) {
    cycle();
    if (i % 50_000 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  const before = await heapAfterGc();
  for (let i = 0; i < n; i++) {
    cycle();
    if (i % 50_000 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  return (await heapAfterGc()) - before;
}

const MB = 1024 * 1024;
const skip = gc === undefined ? "run with --expose-gc" : false;

describe("leaks", { skip }, () => {
  it("1,000,000 withTimeout(parent, 60000) + cancel leave heap, children and timers at baseline", async () => {
    const parent = withCancel(background(), { name: "server" });
    const timers = coreStats().armedTimers;
    const growth = await heapGrowth(1_000_000, () => {
      const ctx = withTimeout(parent, 60_000);
      ctx.cancel();
    });
    assert.equal(dependents(parent), 0);
    assert.equal(coreStats().armedTimers, timers);
    // A leak of even 8 bytes a cycle would be 8 MB here.
    assert.ok(growth < 2 * MB, `heap grew ${(growth / MB).toFixed(2)} MB`);
    parent.cancel();
  });

  it("1,000,000 fromSignal(longLivedSignal) + cancel leave no listener and a flat heap", async () => {
    const controller = new AbortController();
    const signal = controller.signal;
    const growth = await heapGrowth(1_000_000, () => {
      const ctx = fromSignal(signal);
      ctx.cancel();
    });
    assert.equal(getEventListeners(signal, "abort").length, 0);
    assert.ok(growth < 2 * MB, `heap grew ${(growth / MB).toFixed(2)} MB`);
  });

  it("a forgotten cancel is the leak the tests above rule out (control)", async () => {
    const parent = withCancel(background());
    const kept: unknown[] = [];
    const growth = await heapGrowth(100_000, () => {
      kept.push(withTimeout(parent, 60_000)); // never canceled
    });
    assert.equal(dependents(parent), 120_000);
    assert.ok(growth > 8 * MB, `expected the control to leak, grew ${growth}`);
    parent.cancel();
    assert.equal(dependents(parent), 0);
  });

  it("100,000 canceled sleeps and channel receives leave no waiter, timer or growth", async () => {
    const parent = withCancel(background());
    const ch = new Channel<number>();
    const cycle = () => {
      const ctx = withCancel(parent);
      sleep(ctx, 60_000).catch(() => {});
      ch.recv(ctx).catch(() => {});
      ctx.cancel();
    };
    // Warm up with a full round: node:test's async hooks grow their queues once, to a fixed size.
    const growth = await heapGrowth(100_000, cycle, 100_000);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(ch.recvq.size, 0);
    assert.equal(dependents(parent), 0);
    assert.equal(process.getActiveResourcesInfo().filter((r) => r === "Timeout").length, 0);
    assert.ok(growth < 4 * MB, `heap grew ${(growth / MB).toFixed(2)} MB`);
    parent.cancel();
  });
});
