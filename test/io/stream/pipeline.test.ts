import { dependents } from "../../../src/core/introspect.js";
import assert from "node:assert/strict";
import { once } from "node:events";
import { type AddressInfo, type Socket, createServer, connect } from "node:net";
import { Readable, Transform, Writable } from "node:stream";
import { setTimeout as delay } from "node:timers/promises";
import { after, afterEach, before, describe, it } from "node:test";
import {
  Canceled,
  DeadlineExceeded,
  background,
  withCancel,
  withTimeout,
} from "../../../src/index.js";
import { pipeline } from "../../../src/io/stream/index.js";
import { assertReleasedInTime } from "../process/helpers.js";

/** What a test opened; closed after each test, so that one that fails cannot hang the file. */
const opened: { destroy(): unknown }[] = [];
afterEach(() => {
  for (const resource of opened.splice(0)) resource.destroy();
});

/** An endless source that pushes one chunk every `everyMs`, and clears its timer when destroyed. */
function slowSource(everyMs: number): Readable {
  let timer: NodeJS.Timeout | undefined;
  let n = 0;
  const source = new Readable({
    read() {
      timer = setTimeout(() => this.push(`chunk ${n++}\n`), everyMs);
    },
    destroy(err, callback) {
      clearTimeout(timer);
      callback(err);
    },
  });
  opened.push(source);
  return source;
}

/** A loopback server whose sockets, its own and the clients', are closed after the test. */
async function loopbackServer(onConnection: (socket: Socket) => void): Promise<number> {
  const server = createServer((socket) => {
    opened.push(socket);
    onConnection(socket);
  });
  opened.push({ destroy: () => server.close() });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return (server.address() as AddressInfo).port;
}

function connectTo(port: number): Socket {
  const socket = connect(port, "127.0.0.1");
  opened.push(socket);
  return socket;
}

function upperCase(): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      callback(null, chunk.toString().toUpperCase());
    },
  });
}

function collector(): Writable & { readonly chunks: string[] } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  return Object.assign(sink, { chunks });
}

describe("pipeline: the context ends mid-way", { timeout: 20_000 }, () => {
  it("destroys every stream with the context's error and rejects with it in time", async () => {
    const ctx = withTimeout(background(), 150);
    const source = slowSource(10);
    const transform = upperCase();
    const sink = collector();
    const err = await pipeline(ctx, source, transform, sink).then(
      () => assert.fail("resolved"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof DeadlineExceeded, `got ${String(err)}`);
    assert.equal(err, ctx.err);
    assertReleasedInTime(err, ctx.deadline);
    assert.ok(sink.chunks.length > 0, "data flowed before the deadline");
    assert.equal(sink.chunks[0], "CHUNK 0\n");
    await delay(0); // destruction runs on a microtask after the rejection
    for (const [name, stream] of Object.entries({ source, transform, sink })) {
      assert.equal(stream.destroyed, true, `${name} destroyed`);
      assert.equal(stream.errored, ctx.err, `${name} errored with the context's error`);
    }
    const received = sink.chunks.length;
    await delay(50);
    assert.equal(sink.chunks.length, received, "nothing flows after the cancel");
  });

  it("closes a real socket, which the server sees", async () => {
    const serverSide: Socket[] = [];
    const port = await loopbackServer((socket) => {
      serverSide.push(socket);
      socket.write("hello\n"); // then nothing: the client would wait forever
    });
    const socket = connectTo(port);
    await once(socket, "connect");
    const ctx = withTimeout(background(), 150);
    const sink = collector();
    await assert.rejects(pipeline(ctx, socket, sink), DeadlineExceeded);
    await delay(0);
    assert.equal(socket.destroyed, true);
    assert.equal(socket.errored, ctx.err);
    assert.deepEqual(sink.chunks, ["hello\n"]);
    const peer = serverSide[0]!;
    if (!peer.closed) await once(peer, "close");
    assert.ok(performance.now() - ctx.deadline! < 1000, "the server saw the close promptly");
  });

  it("closes a socket it writes to, mid-upload", async () => {
    let bytes = 0;
    let peerClosed: () => void = () => {};
    const closed = new Promise<void>((resolve) => (peerClosed = resolve));
    const port = await loopbackServer((socket) => {
      socket.on("data", (chunk: Buffer) => (bytes += chunk.length));
      socket.on("error", () => {}); // ECONNRESET is what the server sees
      socket.on("close", peerClosed);
    });
    const socket = connectTo(port);
    await once(socket, "connect");
    const ctx = withTimeout(background(), 150);
    await assert.rejects(pipeline(ctx, slowSource(10), socket), DeadlineExceeded);
    const seen = await Promise.race([closed.then(() => true), delay(2000, false)]);
    assert.ok(seen, "the server saw its socket close");
    assert.ok(bytes > 0, "some data went through first");
    assert.equal(socket.destroyed, true);
  });

  it("aborts the signal of function stages", async () => {
    const ctx = withCancel(background());
    let seen: AbortSignal | undefined;
    const done = pipeline(
      ctx,
      slowSource(5),
      async function* (source, { signal }) {
        seen = signal;
        for await (const chunk of source) yield String(chunk);
      },
      collector(),
    );
    await delay(30);
    ctx.cancel();
    await assert.rejects(done, Canceled);
    await delay(0);
    assert.equal(seen?.aborted, true);
  });

  it("reaches function stages through the signal when there is no stream to destroy", async () => {
    const ctx = withCancel(background());
    let aborted = false;
    const done = pipeline(ctx, ["a", "b"], async (source, { signal }) => {
      for await (const _ of source);
      await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve()));
      aborted = true;
    });
    await delay(20);
    ctx.cancel();
    await assert.rejects(done, Canceled);
    await delay(0);
    assert.equal(aborted, true);
  });
});

describe("pipeline: it finishes first", { timeout: 20_000 }, () => {
  it("resolves and leaves nothing registered on the context", async () => {
    const ctx = withCancel(background());
    const sink = collector();
    const transform = upperCase();
    await pipeline(ctx, Readable.from(["a", "b", "c"]), transform, sink);
    assert.deepEqual(sink.chunks, ["A", "B", "C"]);
    assert.equal(dependents(ctx), 0);
    assert.equal(sink.errored, null);
    ctx.cancel();
    await delay(0);
    assert.equal(sink.errored, null, "a later cancel touches nothing");
  });

  it("passes the pipeline's own error through and unlinks", async () => {
    const ctx = withCancel(background());
    const failing = new Transform({
      transform(_chunk, _encoding, callback) {
        callback(new Error("bad row"));
      },
    });
    await assert.rejects(pipeline(ctx, Readable.from(["x"]), failing, collector()), /bad row/);
    assert.equal(dependents(ctx), 0);
    ctx.cancel();
  });
});

describe("pipeline: an ended context", { timeout: 20_000 }, () => {
  it("destroys the streams, moves nothing, and rejects with the context's error", async () => {
    const ctx = withCancel(background());
    ctx.cancel();
    const source = Readable.from(["never"]);
    const sink = collector();
    await assert.rejects(pipeline(ctx, source, sink), (err) => err === ctx.err);
    assert.equal(source.destroyed, true);
    assert.equal(sink.destroyed, true);
    assert.equal(sink.errored, ctx.err);
    assert.deepEqual(sink.chunks, []);
  });
});

describe("pipeline: bad input", { timeout: 20_000 }, () => {
  let source: Readable;
  before(() => {
    source = Readable.from(["x"]);
  });
  after(() => {
    source.destroy();
  });

  it("rejects (never throws), naming the function and what was wrong", async () => {
    await assert.rejects(pipeline(null as never, source, collector()), {
      name: "TypeError",
      code: "TIMEBOUND_ERR_INVALID_ARGUMENT",
      message: /^pipeline: ctx must be a timebound Context, got null/,
    });
    await assert.rejects(pipeline(background(), source), {
      name: "TypeError",
      code: "TIMEBOUND_ERR_INVALID_ARGUMENT",
      message: "pipeline: needs a source and a destination (at least 2 stages), got 1",
    });
    await assert.rejects(pipeline(background(), source, 42 as never), {
      name: "TypeError",
      code: "TIMEBOUND_ERR_INVALID_ARGUMENT",
      message: "pipeline: stage 2 must be a stream, an iterable or a function, got 42",
    });
    await assert.rejects(pipeline(background(), "text" as never, collector()), {
      message: 'pipeline: stage 1 must be a stream, an iterable or a function, got "text"',
    });
    await assert.rejects(pipeline(background(), source, null as never), {
      message: "pipeline: stage 2 must be a stream, an iterable or a function, got null",
    });
  });

  it("a refused call destroys nothing and links nothing", async () => {
    const ctx = withCancel(background());
    await assert.rejects(pipeline(ctx, source, {} as never));
    assert.equal(source.destroyed, false);
    assert.equal(dependents(ctx), 0);
    ctx.cancel();
  });
});
