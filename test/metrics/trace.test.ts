import assert from "node:assert/strict";
import { AsyncLocalStorage } from "node:async_hooks";
import { describe, it } from "node:test";
import * as api from "@opentelemetry/api";
import { background, withTimeout } from "../../src/index.js";
import { traceTimebound } from "../../src/metrics/index.js";
import { circuitBreaker, constantBackoff, pipeline, retry } from "../../src/resilience/index.js";

/** The least of a context manager: the active OTel context follows async calls (AsyncLocalStorage). */
class AlsContextManager implements api.ContextManager {
  readonly #storage = new AsyncLocalStorage<api.Context>();
  active(): api.Context {
    return this.#storage.getStore() ?? api.ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    context: api.Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.#storage.run(context, () => fn.call(thisArg, ...args));
  }
  bind<T>(_context: api.Context, target: T): T {
    return target;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.#storage.disable();
    return this;
  }
}

interface Recorded {
  readonly name: string;
  readonly attributes: api.Attributes;
}

/** A span that records its events: all a test needs of an SDK. */
function recordingSpan(): { span: api.Span; events: Recorded[] } {
  const events: Recorded[] = [];
  const span = api.trace.wrapSpanContext({
    traceId: "0af7651916cd43dd8448eb211c80319c",
    spanId: "b7ad6b7169203331",
    traceFlags: api.TraceFlags.SAMPLED,
  });
  return {
    events,
    span: Object.assign(Object.create(span) as api.Span, {
      isRecording: () => true,
      addEvent(name: string, attributes?: api.Attributes) {
        events.push({ name, attributes: attributes ?? {} });
        return this;
      },
    }),
  };
}

describe("traceTimebound", () => {
  it("turns policy events into events on the active span, with attributes", async () => {
    const manager = new AlsContextManager();
    assert.ok(api.context.setGlobalContextManager(manager), "the context manager registered");
    try {
      using _tracing = traceTimebound();
      const { span, events } = recordingSpan();
      const policy = pipeline(
        retry({ name: "r", maxAttempts: 2, backoff: constantBackoff(1) }),
        circuitBreaker({ name: "b" }),
      );
      using ctx = withTimeout(background(), 5_000, { name: "checkout" });
      let n = 0;
      const answer = await api.context.with(api.trace.setSpan(api.context.active(), span), () =>
        policy.execute(ctx, () => {
          if (n++ === 0) throw Object.assign(new Error("reset"), { code: "ECONNRESET" });
          return "ok";
        }),
      );
      assert.equal(answer, "ok");
      const names = events.map((e) => e.name);
      assert.deepEqual(names, [
        "timebound.circuit-breaker.call",
        "timebound.retry.retry",
        "timebound.circuit-breaker.call",
        "timebound.pipeline.call",
      ]);
      const retried = events[1]!.attributes;
      assert.equal(retried["timebound.policy"], "r");
      assert.equal(retried["timebound.event"], "retry");
      assert.equal(retried["timebound.context"], "checkout");
      assert.equal(retried["timebound.attempt"], 1);
      assert.equal(retried["timebound.delayMs"], 1);
      assert.equal(retried["timebound.failure.type"], "ECONNRESET");
      assert.equal(events[0]!.attributes["timebound.outcome"], "failure");
      assert.equal(events[3]!.attributes["timebound.outcome"], "success");

      // Outside any span, nothing is recorded (and nothing throws).
      await policy.execute(ctx, () => "no span");
      assert.equal(events.length, 4);
    } finally {
      api.context.disable();
    }
  });

  it("stop() unsubscribes", async () => {
    const manager = new AlsContextManager();
    api.context.setGlobalContextManager(manager);
    try {
      const tracing = traceTimebound({ api });
      tracing.stop();
      const { span, events } = recordingSpan();
      const policy = retry({ name: "r2", maxAttempts: 2, backoff: constantBackoff(0) });
      await api.context.with(api.trace.setSpan(api.context.active(), span), () =>
        policy
          .execute(background(), () =>
            Promise.reject(Object.assign(new Error("x"), { code: "EPIPE" })),
          )
          .catch(() => {}),
      );
      assert.equal(events.length, 0, "no event after stop()");
    } finally {
      api.context.disable();
    }
  });

  it("refuses a wrong api option with a message naming it", () => {
    assert.throws(() => traceTimebound({ api: {} as never }), {
      name: "TypeError",
      message: /traceTimebound: options\.api must be the @opentelemetry\/api module/,
    });
  });
});
