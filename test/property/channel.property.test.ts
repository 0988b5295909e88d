// Channel and Semaphore against simple reference models: every operation's outcome, the
// buffer, and the wait queues must match after each step, and nothing may wait after its
// context ended.
import { dependents } from "../../src/core/introspect.js";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  type CancelableContext,
  Channel,
  ChannelClosedError,
  Semaphore,
  background,
  withCancel,
} from "../../src/index.js";
import { flush } from "../helpers.js";

type Settled = "pending" | "sent" | "canceled" | "closed-error" | { ok: boolean; value: unknown };

interface PendingOp {
  readonly id: number;
  readonly ctx: CancelableContext;
  outcome: Settled;
}

type ChanAction =
  | { kind: "trySend" | "send"; value: number }
  | { kind: "tryRecv" | "recv" | "close" }
  | { kind: "cancel"; pick: number };

const chanAction: fc.Arbitrary<ChanAction> = fc.oneof(
  fc.record({ kind: fc.constantFrom("trySend" as const, "send" as const), value: fc.nat(99) }),
  fc.record({ kind: fc.constantFrom("tryRecv" as const, "recv" as const) }),
  fc.record({ kind: fc.constant("close" as const) }),
  fc.record({ kind: fc.constant("cancel" as const), pick: fc.nat() }),
);

/** What Go's channel does, written as plainly as possible. */
class ChannelModel {
  buf: number[] = [];
  sendq: { id: number; value: number }[] = [];
  recvq: { id: number }[] = [];
  closed = false;
  results = new Map<number, Settled>();
  constructor(readonly cap: number) {}

  trySend(value: number): boolean | "throws" {
    if (this.closed) return "throws";
    const r = this.recvq.shift();
    if (r) {
      this.results.set(r.id, { ok: true, value });
      return true;
    }
    if (this.buf.length < this.cap) {
      this.buf.push(value);
      return true;
    }
    return false;
  }

  tryRecv(): { ok: boolean; value: unknown } | undefined {
    if (this.buf.length > 0) {
      const value = this.buf.shift();
      const s = this.sendq.shift();
      if (s) {
        this.buf.push(s.value);
        this.results.set(s.id, "sent");
      }
      return { ok: true, value };
    }
    const s = this.sendq.shift();
    if (s) {
      this.results.set(s.id, "sent");
      return { ok: true, value: s.value };
    }
    return this.closed ? { ok: false, value: undefined } : undefined;
  }

  close(): boolean {
    if (this.closed) return false;
    this.closed = true;
    for (const r of this.recvq) this.results.set(r.id, { ok: false, value: undefined });
    for (const s of this.sendq) this.results.set(s.id, "closed-error");
    this.recvq = [];
    this.sendq = [];
    return true;
  }

  cancel(id: number): void {
    if (this.results.get(id) !== "pending") return;
    this.results.set(id, "canceled");
    this.sendq = this.sendq.filter((s) => s.id !== id);
    this.recvq = this.recvq.filter((r) => r.id !== id);
  }
}

describe("Channel (model-based property)", () => {
  it("matches Go's channel semantics step by step", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 3 }),
        fc.array(chanAction, { maxLength: 40 }),
        async (cap, actions) => {
          const ch = new Channel<number>(cap);
          const model = new ChannelModel(cap);
          const ops: PendingOp[] = [];
          const start = (ctx: CancelableContext, p: Promise<unknown>, isSend: boolean) => {
            const op: PendingOp = { id: ops.length, ctx, outcome: "pending" };
            ops.push(op);
            p.then(
              (v) => (op.outcome = isSend ? "sent" : (v as Settled)),
              (e: Error) =>
                (op.outcome = e instanceof ChannelClosedError ? "closed-error" : "canceled"),
            );
            return op.id;
          };
          for (const a of actions) {
            switch (a.kind) {
              case "trySend": {
                const expected = model.trySend(a.value);
                if (expected === "throws") assert.throws(() => ch.trySend(a.value));
                else assert.equal(ch.trySend(a.value), expected);
                break;
              }
              case "tryRecv":
                assert.deepEqual(ch.tryRecv(), model.tryRecv());
                break;
              case "send": {
                const ctx = withCancel(background());
                const id = start(ctx, ch.send(ctx, a.value), true);
                const done = model.trySend(a.value);
                if (done === "throws") model.results.set(id, "closed-error");
                else if (done) model.results.set(id, "sent");
                else {
                  model.results.set(id, "pending");
                  model.sendq.push({ id, value: a.value });
                }
                break;
              }
              case "recv": {
                const ctx = withCancel(background());
                const id = start(ctx, ch.recv(ctx), false);
                const got = model.tryRecv();
                if (got) model.results.set(id, got);
                else {
                  model.results.set(id, "pending");
                  model.recvq.push({ id });
                }
                break;
              }
              case "close":
                if (model.close()) ch.close();
                else assert.throws(() => ch.close(), ChannelClosedError);
                break;
              case "cancel": {
                if (ops.length === 0) break;
                const op = ops[a.pick % ops.length]!;
                op.ctx.cancel();
                model.cancel(op.id);
                break;
              }
            }
            await flush();
            assert.equal(ch.length, model.buf.length);
            assert.equal(ch.sendq.size, model.sendq.length);
            assert.equal(ch.recvq.size, model.recvq.length);
            for (const op of ops) {
              assert.deepEqual(op.outcome, model.results.get(op.id), `op ${op.id}`);
              if (op.outcome !== "pending") assert.equal(dependents(op.ctx), 0);
            }
          }
          for (const op of ops) op.ctx.cancel();
          await flush();
          assert.equal(ch.sendq.size + ch.recvq.size, 0, "waiters left after every ctx ended");
        },
      ),
      { numRuns: 300 },
    );
  });
});

type SemAction =
  | { kind: "acquire" | "tryAcquire"; n: number }
  | { kind: "release"; pick: number }
  | { kind: "cancel"; pick: number };

describe("Semaphore (model-based property)", () => {
  it("grants FIFO within its size and drops canceled waiters", async () => {
    const size = 4;
    const action: fc.Arbitrary<SemAction> = fc.oneof(
      fc.record({
        kind: fc.constantFrom("acquire" as const, "tryAcquire" as const),
        n: fc.integer({ min: 0, max: size }),
      }),
      fc.record({ kind: fc.constant("release" as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant("cancel" as const), pick: fc.nat() }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(action, { maxLength: 40 }), async (actions) => {
        const sem = new Semaphore(size);
        let used = 0;
        let queue: { id: number; n: number }[] = [];
        const held: number[] = []; // weights currently held, by grant
        const ops: { ctx: CancelableContext; n: number; outcome: string }[] = [];
        const expected = new Map<number, string>();
        const grant = () => {
          while (queue.length > 0 && size - used >= queue[0]!.n) {
            const w = queue.shift()!;
            used += w.n;
            held.push(w.n);
            expected.set(w.id, "granted");
          }
        };
        for (const a of actions) {
          if (a.kind === "tryAcquire") {
            const ok = queue.length === 0 && size - used >= a.n;
            assert.equal(sem.tryAcquire(a.n), ok);
            if (ok) {
              used += a.n;
              held.push(a.n);
            }
          } else if (a.kind === "acquire") {
            const ctx = withCancel(background());
            const op = { ctx, n: a.n, outcome: "pending" };
            const id = ops.push(op) - 1;
            sem.acquire(ctx, a.n).then(
              () => (op.outcome = "granted"),
              () => (op.outcome = "canceled"),
            );
            expected.set(id, "pending");
            queue.push({ id, n: a.n });
            grant();
          } else if (a.kind === "release") {
            if (held.length === 0) {
              if (used === 0) assert.throws(() => sem.release(1), RangeError);
              continue;
            }
            const n = held.splice(a.pick % held.length, 1)[0]!;
            sem.release(n);
            used -= n;
            grant();
          } else if (a.kind === "cancel" && ops.length > 0) {
            const id = a.pick % ops.length;
            ops[id]!.ctx.cancel();
            if (expected.get(id) === "pending") {
              expected.set(id, "canceled");
              queue = queue.filter((w) => w.id !== id);
              grant();
            }
          }
          await flush();
          assert.equal(sem.available, size - used);
          assert.equal(sem.waiting, queue.length);
          ops.forEach((op, id) => assert.equal(op.outcome, expected.get(id), `op ${id}`));
        }
        for (const op of ops) op.ctx.cancel();
        await flush();
        assert.equal(sem.waiting, 0);
      }),
      { numRuns: 300 },
    );
  });
});
