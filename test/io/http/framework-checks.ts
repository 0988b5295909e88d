// What the Express and Fastify tests check alike: each app serves the same three routes through
// a Handlers recorder, and these checks drive them with a real client over loopback.
import assert from "node:assert/strict";
import {
  Canceled,
  type Context,
  DeadlineExceeded,
  background,
  cause,
  current,
  explain,
  now,
  sleep,
  withTimeout,
} from "../../../src/index.js";
import { ClientDisconnectedError, RESPONSE_FINISHED, fetch } from "../../../src/io/http/index.js";
import { pipelined, rejection } from "./servers.js";

/** What a handler saw: its request's context, the bound one, and how a long wait ended. */
export interface Seen {
  readonly ctx: Context;
  readonly ambient: Context | undefined;
  err?: unknown;
  at?: number;
}

/** The routes' bodies: `/ambient`, `/parsed` and `/slow` record what they saw here. */
export class Handlers {
  readonly seen: Seen[] = [];

  /** Records the request's context and the bound one. */
  record(ctx: Context): Seen {
    const entry: Seen = { ctx, ambient: current() };
    this.seen.push(entry);
    return entry;
  }

  /** Sleeps 10 s under the request's context; resolves with the status and body to send. */
  async slow(ctx: Context): Promise<{ status: number; body: string }> {
    const entry = this.record(ctx);
    try {
      await sleep(ctx, 10_000);
      return { status: 200, body: "slept" };
    } catch (err) {
      entry.err = err;
      entry.at = now();
      return { status: 504, body: "gave up" };
    }
  }

  last(): Seen {
    return this.seen.at(-1)!;
  }
}

/** `/ambient`: the context is bound, carries the caller's deadline, and ends with the response. */
export async function checkBoundAndFinished(url: string, handlers: Handlers): Promise<void> {
  using ctx = withTimeout(background(), 2_000);
  const res = await fetch(ctx, `${url}/ambient`);
  assert.equal(await res.text(), "ok");
  const last = handlers.last();
  assert.equal(last.ambient, last.ctx);
  assert.equal(last.ctx.name, "GET /ambient");
  const timeoutMs = explain(last.ctx).context.timeoutMs!;
  assert.ok(timeoutMs <= 2_000, `${timeoutMs} ms: the header, not the 5 s maximum`);
  for (let i = 0; i < 20 && last.ctx.err === undefined; i++) await sleep(background(), 5);
  assert.equal(cause(last.ctx), RESPONSE_FINISHED);
}

/** `/parsed`: the binding survives the framework's body parsing. */
export async function checkParsedBinding(url: string, handlers: Handlers): Promise<void> {
  using ctx = withTimeout(background(), 2_000);
  const res = await fetch(ctx, `${url}/parsed`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ a: 1 }),
  });
  assert.deepEqual(await res.json(), { a: 1 });
  const last = handlers.last();
  assert.equal(last.ctx.name, "POST /parsed");
  assert.equal(last.ambient, last.ctx);
}

/** `/slow` with a 250 ms header: the handler's context ends with DeadlineExceeded. */
export async function checkCallerDeadline(url: string, handlers: Handlers): Promise<void> {
  // Without a deadline of its own, fetch sends the header it was given as it is.
  const res = await fetch(background(), `${url}/slow`, {
    headers: { "timebound-timeout": "250m" },
  });
  assert.equal(res.status, 504);
  await res.text();
  const last = handlers.last();
  assert.ok(last.err instanceof DeadlineExceeded);
  assert.equal(last.ctx.err, last.err);
}

/** `/slow`, the client leaves: the handler's context is Canceled as disconnected at once. */
export async function checkDisconnect(url: string, handlers: Handlers): Promise<void> {
  const ctx = withTimeout(background(), 60_000);
  const started = handlers.seen.length;
  const pending = fetch(ctx, `${url}/slow`);
  for (let i = 0; i < 100 && handlers.seen.length === started; i++) await sleep(background(), 5);
  const leftAt = now();
  ctx.cancel();
  await rejection(pending);
  const seen = handlers.seen;
  for (let i = 0; i < 100 && seen[started]?.err === undefined; i++) await sleep(background(), 5);
  const handler = seen[started]!;
  assert.ok(handler.err instanceof Canceled, String(handler.err));
  assert.ok(cause(handler.ctx) instanceof ClientDisconnectedError);
  assert.ok(handler.at! - leftAt < 100, `${(handler.at! - leftAt).toFixed(1)} ms`);
}

/**
 * Two `/slow` requests pipelined on one connection, then the client destroys it: both handlers'
 * contexts end as disconnected at once, the second too, whose response was still queued behind
 * the first (it never gets a socket, so it never emits `close`).
 */
export async function checkPipelinedDisconnect(url: string, handlers: Handlers): Promise<void> {
  const started = handlers.seen.length;
  const socket = await pipelined(url, ["/slow?n=1", "/slow?n=2"]);
  socket.on("error", () => {});
  for (let i = 0; i < 200 && handlers.seen.length < started + 2; i++) await sleep(background(), 5);
  const mine = handlers.seen.slice(started);
  assert.equal(mine.length, 2, "both pipelined requests reached their handler");
  const leftAt = now();
  socket.destroy();
  for (let i = 0; i < 200 && mine.some((s) => s.err === undefined); i++) {
    await sleep(background(), 5);
  }
  mine.forEach((handler, i) => {
    const which = `pipelined request ${i + 1}`;
    assert.ok(handler.err instanceof Canceled, `${which} ended with ${String(handler.err)}`);
    assert.ok(
      cause(handler.ctx) instanceof ClientDisconnectedError,
      `${which}: cause ${String(cause(handler.ctx))}`,
    );
    const after = handler.at! - leftAt;
    assert.ok(after < 500, `${which} ended ${after.toFixed(1)} ms after the disconnect`);
  });
}
