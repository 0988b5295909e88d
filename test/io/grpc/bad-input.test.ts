import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ClientDuplexStream, ClientReadableStream } from "@grpc/grpc-js";
import { background } from "../../../src/index.js";
import {
  bidiStream,
  callOptions,
  clientStream,
  contextFromCall,
  serverStream,
  unary,
  withContext,
} from "../../../src/io/grpc/index.js";
import { type SleepReply, type SumReply, type Tick, oneHopForSuite } from "./work-service.js";

describe("grpc bad input", () => {
  const hop = oneHopForSuite();

  it("names the function and the bad context; unary rejects, it never throws", async () => {
    const notCtx = { deadline: 1 } as never;
    await assert.rejects(
      unary(notCtx, hop.client, "sleep", {}),
      /^TypeError: unary: ctx must be a timebound Context/,
    );
    assert.throws(() => serverStream(notCtx, hop.client, "ticks", {}), /serverStream: ctx must be/);
    assert.throws(() => bidiStream(notCtx, hop.client, "echo"), /bidiStream: ctx must be/);
    assert.throws(() => clientStream(notCtx, hop.client, "sum"), /clientStream: ctx must be/);
    assert.throws(() => callOptions(notCtx), /callOptions: ctx must be/);
  });

  it("names a bad client or method, and the helper for a method of another kind", async () => {
    const ctx = background();
    await assert.rejects(
      unary(ctx, null as never, "sleep", {} as never),
      /unary: client must be a grpc-js client, got null/,
    );
    await assert.rejects(
      unary(ctx, hop.client, 7 as never, {} as never),
      /unary: method must be the name of one of the client's methods, got 7/,
    );
    await assert.rejects(
      unary(ctx, hop.client, "nap" as never, {} as never),
      /unary: the client has no method "nap" \(got undefined\)/,
    );
    await assert.rejects(
      unary(ctx, hop.client, "close", {}),
      /unary: "close" is not a gRPC method of the client/,
    );
    await assert.rejects(
      unary(ctx, hop.client, "ticks", {}),
      /unary: "ticks" is a serverStream method, not unary; call it with serverStream\(\)/,
    );
    assert.throws(
      () => serverStream(ctx, hop.client, "sleep", {}),
      /serverStream: "sleep" is a unary method, not serverStream; call it with unary\(\)/,
    );
    assert.throws(
      () => bidiStream(ctx, hop.client, "sum"),
      /bidiStream: "sum" is a clientStream method, not bidi; call it with clientStream\(\)/,
    );
    assert.throws(
      () => clientStream(ctx, hop.client, "echo"),
      /clientStream: "echo" is a bidi method, not clientStream; call it with bidiStream\(\)/,
    );
  });

  it("names bad metadata and call options", async () => {
    const ctx = background();
    await assert.rejects(
      unary(ctx, hop.client, "sleep", {}, { "x-id": "1" } as never),
      /unary: metadata must be a grpc-js Metadata or undefined, got \{"x-id":"1"\}/,
    );
    await assert.rejects(
      unary(ctx, hop.client, "sleep", {}, undefined, 5 as never),
      /unary: options \(grpc-js CallOptions\) must be an object, got 5/,
    );
    assert.throws(
      () => serverStream(ctx, hop.client, "ticks", {}, undefined, "x" as never),
      /serverStream: options \(grpc-js CallOptions\) must be/,
    );
    assert.throws(
      () => callOptions(ctx, null as never),
      /callOptions: options \(grpc-js CallOptions\) must be an object, got null/,
    );
    await assert.rejects(
      unary(ctx, hop.client, "sleep", {}, undefined, { deadline: new Date("soon") }),
      /unary: options.deadline must be a valid Date or wall-clock ms \(a number\), got Date\(/,
    );
    assert.throws(
      () => callOptions(ctx, { deadline: "tomorrow" as never }),
      /callOptions: options.deadline must be a valid Date or wall-clock ms \(a number\), got "tomorrow"/,
    );
  });

  it("names a bad server call, options or handler", async () => {
    await unary(background(), hop.client, "sleep", { id: "bad-options" });
    const { call } = await hop.b.ended("bad-options");
    assert.throws(
      () => contextFromCall(call, 5 as never),
      /contextFromCall: options must be an object, got 5/,
    );
    assert.throws(
      () => contextFromCall(call, { parent: {} as never }),
      /contextFromCall: options.parent must be a timebound Context, got \{\}/,
    );
    assert.throws(
      () => withContext(() => 1, { name: 7 as never }),
      /withContext: options.name must be a string, got 7/,
    );
    assert.throws(
      () => withContext(() => 1, { sendExplanation: "yes" as never }),
      /withContext: options.sendExplanation must be true or false, got "yes"/,
    );
    assert.throws(
      () => contextFromCall({} as never),
      /contextFromCall: call must be the call object grpc-js gives a server handler, got \{\}/,
    );
    assert.throws(
      () => withContext("handler" as never),
      /withContext: handler must be a function, got "handler"/,
    );
  });

  it("refuses an unknown option of its own; grpc-js call options pass through", async () => {
    await unary(background(), hop.client, "sleep", { id: "unknown-option" });
    const { call } = await hop.b.ended("unknown-option");
    const unknown = (pattern: RegExp) => (err: unknown) => {
      assert.match(String(err), pattern);
      assert.equal((err as { code?: unknown }).code, "TIMEBOUND_ERR_UNKNOWN_OPTION");
      return true;
    };
    assert.throws(
      () => contextFromCall(call, { nmae: "x" } as never),
      unknown(/^TypeError: contextFromCall: unknown option options\.nmae \(known: parent, name\)$/),
    );
    assert.throws(
      () => contextFromCall(call, { sendExplanation: true } as never),
      unknown(/contextFromCall: unknown option options\.sendExplanation/),
    );
    assert.throws(
      () => withContext(() => 1, { sendExplanations: true } as never),
      unknown(
        /^TypeError: withContext: unknown option options\.sendExplanations \(known: parent, name, sendExplanation\)$/,
      ),
    );
    // Other argument errors carry the invalid-argument code.
    assert.throws(
      () => withContext(() => 1, { name: 7 as never }),
      (err: unknown) => (err as { code?: unknown }).code === "TIMEBOUND_ERR_INVALID_ARGUMENT",
    );
    await assert.rejects(
      unary(background(), hop.client, "sleep", {}, undefined, 5 as never),
      (err: unknown) => (err as { code?: unknown }).code === "TIMEBOUND_ERR_INVALID_ARGUMENT",
    );
    // grpc-js's own keys, and any a later grpc-js adds, are grpc-js's business.
    const options = callOptions(background(), { host: "h", futureKey: 1 } as never);
    assert.equal((options as unknown as { futureKey: number }).futureKey, 1);
    assert.equal(options.host, "h");
    // withContext's own option is not refused by the context it makes for each call.
    const handler = withContext(() => ({}), { sendExplanation: true, name: "n" });
    assert.equal(typeof handler, "function");
  });

  it("infers request and response types from a typed client", () => {
    const ctx = background();
    // Type-level checks: compiled, never run.
    const typed = (): void => {
      const reply: Promise<SleepReply> = unary(ctx, hop.client, "sleep", { ms: 1 });
      const ticks: AsyncIterable<Tick> & { call: ClientReadableStream<Tick> } = serverStream(
        ctx,
        hop.client,
        "ticks",
        { count: 1 },
      );
      const echo: AsyncIterable<Tick> & { call: ClientDuplexStream<Tick, Tick> } = bidiStream(
        ctx,
        hop.client,
        "echo",
      );
      // @ts-expect-error: the messages are Ticks, not strings
      const wrong: AsyncIterable<string> = bidiStream(ctx, hop.client, "echo");
      const sum: Promise<SumReply> = clientStream(ctx, hop.client, "sum").response;
      // @ts-expect-error: ms is a number
      void unary(ctx, hop.client, "sleep", { ms: "1" });
      // @ts-expect-error: the client has no such method
      void unary(ctx, hop.client, "nap", {});
      void [reply, ticks, echo, sum, wrong];
    };
    assert.equal(typeof typed, "function");
  });
});
