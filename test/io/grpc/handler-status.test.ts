// What a withContext handler that ends with a context's error sends back: the status says who
// ended the work (callers act on it), and the details are a short fixed phrase unless the
// server opts in to sending its explanations (they name internal contexts, hosts, causes).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { type Context, background, run, withCancel, withTimeout } from "../../../src/index.js";
import {
  contextInterceptor,
  serverStream,
  unary,
  withContext,
} from "../../../src/io/grpc/index.js";
import {
  type SleepReply,
  type SleepRequest,
  type WorkClient,
  type WorkServer,
  type WorkServerOptions,
  connected,
  newWorkClient,
  rejection,
  startWorkServer,
} from "./work-service.js";

/** A status as a handler sent it, seen by a server interceptor before grpc-js sends it. */
interface SentStatus {
  readonly path: string;
  readonly code: number | undefined;
  readonly details: string | undefined;
}

/** Records every status the server's handlers send, in order. */
function statusRecorder(): { sent: SentStatus[]; interceptor: grpc.ServerInterceptor } {
  const sent: SentStatus[] = [];
  const interceptor: grpc.ServerInterceptor = (method, call) =>
    new grpc.ServerInterceptingCall(call, {
      sendStatus(status, next) {
        sent.push({ path: method.path, code: status.code, details: status.details });
        next(status);
      },
    });
  return { sent, interceptor };
}

/** Runs `fn` with a fresh Work server and a connected client, then closes both. */
async function withServer(
  options: WorkServerOptions,
  fn: (server: WorkServer, client: WorkClient) => Promise<void>,
): Promise<void> {
  const server = await startWorkServer(options);
  const client = newWorkClient(server.address);
  try {
    await connected(client);
    await fn(server, client);
  } finally {
    client.close();
    await server.close();
  }
}

/** The status the handler of `id` sent, once it is in. */
async function sentFor(sent: readonly SentStatus[], server: WorkServer): Promise<SentStatus> {
  for (let i = 0; i < 200 && sent.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(sent.length, 1, `${server.address}: statuses sent: ${JSON.stringify(sent)}`);
  return sent[0]!;
}

type Failure = { code?: number; details?: string };

const SECRET_CAUSE = "SIGTERM from orchestrator; draining pod web-7f9 on db-3.internal";

describe("grpc handler statuses", () => {
  it("the caller's deadline: DEADLINE_EXCEEDED, 'deadline exceeded'", async () => {
    const { sent, interceptor } = statusRecorder();
    await withServer({ interceptors: [interceptor] }, async (server, client) => {
      const ctx = withTimeout(background(), 100, { name: "caller" });
      await rejection(unary(ctx, client, "sleep", { ms: 10_000, id: "caller-deadline" }));
      await server.ended("caller-deadline");
      const status = await sentFor(sent, server);
      assert.equal(status.code, grpc.status.DEADLINE_EXCEEDED);
      assert.equal(status.details, "deadline exceeded");
    });
  });

  it("the caller's cancel: CANCELLED, 'canceled'", async () => {
    const { sent, interceptor } = statusRecorder();
    await withServer({ interceptors: [interceptor] }, async (server, client) => {
      const ctx = withCancel(background(), { name: "caller" });
      const call = unary(ctx, client, "sleep", { ms: 10_000, id: "caller-cancel" });
      await server.started("caller-cancel");
      ctx.cancel(new Error("user closed the tab"));
      await rejection(call);
      await server.ended("caller-cancel");
      const status = await sentFor(sent, server);
      assert.equal(status.code, grpc.status.CANCELLED);
      assert.equal(status.details, "canceled");
    });
  });

  it("the server's drain (its parent context ends): UNAVAILABLE, 'server shutting down'", async () => {
    const serverLife = withCancel(background(), { name: "server on db-3.internal" });
    await withServer({ parent: serverLife }, async (server, client) => {
      using ctx = withTimeout(background(), 5_000);
      const call = unary(ctx, client, "sleep", { ms: 10_000, id: "drain" });
      await server.started("drain");
      serverLife.cancel(new Error(SECRET_CAUSE));
      const err = (await rejection(call)) as Failure;
      assert.equal(err.code, grpc.status.UNAVAILABLE, "a draining server is UNAVAILABLE");
      assert.equal(err.details, "server shutting down");
      // The explanation stays on the server, for its logs.
      const visit = await server.ended("drain");
      assert.match(String(visit.ctx.err?.message), /db-3\.internal/);
    });
  });

  it("a server-streaming handler drained mid-stream: UNAVAILABLE too", async () => {
    const serverLife = withCancel(background(), { name: "server" });
    await withServer({ parent: serverLife }, async (server, client) => {
      using ctx = withTimeout(background(), 5_000);
      const stream = serverStream(ctx, client, "ticks", { count: 1_000, intervalMs: 5, id: "d" });
      const read = (async () => {
        for await (const _ of stream);
      })();
      await server.started("d");
      serverLife.cancel(new Error(SECRET_CAUSE));
      const err = (await rejection(read)) as Failure;
      assert.equal(err.code, grpc.status.UNAVAILABLE);
      assert.equal(err.details, "server shutting down");
    });
  });

  it("sendExplanation: true sends the explanation, cause included", async () => {
    const serverLife = withCancel(background(), { name: "server" });
    await withServer({ parent: serverLife, sendExplanation: true }, async (server, client) => {
      using ctx = withTimeout(background(), 5_000);
      const call = unary(ctx, client, "sleep", { ms: 10_000, id: "explained" });
      await server.started("explained");
      serverLife.cancel(new Error(SECRET_CAUSE));
      const err = (await rejection(call)) as Failure;
      assert.equal(err.code, grpc.status.UNAVAILABLE);
      assert.match(err.details ?? "", /ancestor "server" was canceled/);
      assert.match(err.details ?? "", /SIGTERM from orchestrator/);
    });
  });

  it("the handler's own deadline: DEADLINE_EXCEEDED, 'deadline exceeded in the server'", async () => {
    // A handler calling on through contextInterceptor (the handler's context is ambient): the
    // grpc-js error it rethrows carries the context's explanation locally; it is not sent.
    const b = await startWorkServer();
    const toB = newWorkClient(b.address, { interceptors: [contextInterceptor] });
    const viaInterceptor = withContext(
      async (ctx: Context, call: grpc.ServerUnaryCall<SleepRequest, SleepReply>) => {
        using budget = withTimeout(ctx, 50, { name: "inventory budget at 10.0.3.7" });
        return await run(
          budget,
          () =>
            new Promise<SleepReply>((resolve, reject) => {
              toB.sleep(call.request, (err, reply) => (err ? reject(err) : resolve(reply!)));
            }),
        );
      },
    );
    try {
      await withServer({ handlers: { sleep: viaInterceptor } }, async (_server, client) => {
        using ctx = withTimeout(background(), 5_000);
        const err = (await rejection(unary(ctx, client, "sleep", { ms: 10_000 }))) as Failure;
        assert.equal(err.code, grpc.status.DEADLINE_EXCEEDED);
        assert.equal(err.details, "deadline exceeded in the server");
      });
    } finally {
      toB.close();
      await b.close();
    }
  });

  it("a cancel inside the server that the call did not cause: UNKNOWN, not CANCELLED", async () => {
    const cache = withCancel(background(), { name: "cache fill" });
    cache.cancel(new Error("evicted"));
    const handler = withContext((_ctx, _call: grpc.ServerUnaryCall<SleepRequest, SleepReply>) =>
      Promise.reject(cache.err!),
    );
    await withServer({ handlers: { sleep: handler } }, async (_server, client) => {
      const err = (await rejection(unary(background(), client, "sleep", {}))) as Failure;
      assert.equal(err.code, grpc.status.UNKNOWN);
      assert.equal(err.details, "canceled in the server");
    });
  });

  it("a failure that cannot be read is UNKNOWN, and the server keeps running", async () => {
    const unreadable = {
      get code(): number {
        throw new Error("getter boom");
      },
    };
    const handler = withContext((_ctx, _call: grpc.ServerUnaryCall<SleepRequest, SleepReply>) =>
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      Promise.reject(unreadable),
    );
    await withServer({ handlers: { sleep: handler } }, async (_server, client) => {
      const err = (await rejection(unary(background(), client, "sleep", {}))) as Failure;
      assert.equal(err.code, grpc.status.UNKNOWN);
      assert.match(err.details ?? "", /unreadable/);
    });
  });
});
