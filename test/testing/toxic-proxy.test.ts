// startToxicProxy: each toxic seen by a real client through real sockets in front of a real TCP
// server; toxics changed at run time; counts exact; bad options refused.
import assert from "node:assert/strict";
import { type Server, type Socket, connect, createServer } from "node:net";
import { after, describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { type ToxicProxy, startToxicProxy } from "../../src/testing/toxic-proxy.js";

const servers: Server[] = [];
const proxies: ToxicProxy[] = [];
after(async () => {
  await Promise.all(proxies.map((p) => p.close()));
  for (const s of servers) s.close();
});

/** A TCP server on 127.0.0.1 that does `onConnection` with each socket; its "host:port". */
async function serve(onConnection: (socket: Socket) => void): Promise<string> {
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    socket.on("error", () => {});
    onConnection(socket);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  assert.ok(typeof address === "object" && address !== null, "a TCP address");
  return `127.0.0.1:${address.port}`;
}

const echo = (): Promise<string> => serve((socket) => socket.pipe(socket));

async function proxyTo(
  upstream: string,
  options?: Partial<Parameters<typeof startToxicProxy>[0]>,
): Promise<ToxicProxy> {
  const proxy = await startToxicProxy({ upstream, ...options });
  proxies.push(proxy);
  return proxy;
}

/** A client connection with what it received, how it ended, and when. */
class Client {
  readonly socket: Socket;
  received = Buffer.alloc(0);
  error: NodeJS.ErrnoException | undefined;
  endedAt: number | undefined;
  readonly closed: Promise<void>;
  readonly connected: Promise<void>;

  constructor(address: string) {
    const [host, port] = address.split(":");
    this.socket = connect({ host, port: Number(port) });
    this.connected = new Promise((resolve) => this.socket.once("connect", () => resolve()));
    this.socket.on(
      "data",
      (chunk: Buffer) => (this.received = Buffer.concat([this.received, chunk])),
    );
    this.socket.on("end", () => (this.endedAt = performance.now()));
    this.socket.on("error", (err) => (this.error = err));
    this.closed = new Promise((resolve) => this.socket.once("close", () => resolve()));
  }

  /** Waits until `n` bytes arrived (or the connection closed, or `ms` passed). */
  async receive(n: number, ms = 5000): Promise<Buffer> {
    const until = performance.now() + ms;
    while (this.received.length < n && !this.socket.destroyed && performance.now() < until)
      await delay(2);
    return this.received;
  }
}

/** Round trip of `bytes` through an echo, in ms. */
async function roundTrip(client: Client, bytes = 10): Promise<number> {
  const before = client.received.length;
  const started = performance.now();
  client.socket.write(Buffer.alloc(bytes, 7));
  await client.receive(before + bytes);
  assert.equal(client.received.length, before + bytes, "the echo came back");
  return performance.now() - started;
}

describe("startToxicProxy", { timeout: 60_000 }, () => {
  it("without toxics: bytes pass both ways untouched; counts are exact", async () => {
    const proxy = await proxyTo(await echo());
    const client = new Client(proxy.address);
    const payload = Buffer.from(Array.from({ length: 100_000 }, (_, i) => i % 251));
    client.socket.write(payload);
    assert.deepEqual(await client.receive(payload.length), payload, "the same bytes, in order");
    client.socket.end();
    await client.closed;
    await delay(20);
    assert.deepEqual(proxy.stats(), {
      connections: 1,
      active: 0,
      upstreamErrors: 0,
      bytes: { upstream: 100_000, downstream: 100_000 },
      dropped: { upstream: 0, downstream: 0 },
      resets: 0,
    });
  });

  it("latency: each direction adds its delay; removing the toxic takes it away at run time", async () => {
    const proxy = await proxyTo(await echo());
    const client = new Client(proxy.address);
    await client.connected;
    const plain = await roundTrip(client);
    proxy.addToxic({ type: "latency", latencyMs: 150, stream: "both", name: "slow" });
    const slow = await roundTrip(client);
    assert.ok(slow >= 299, `150 ms each way: round trip ${slow.toFixed(1)} ms`);
    proxy.addToxic({
      type: "latency",
      latencyMs: 0,
      jitterMs: 50,
      stream: "upstream",
      name: "jitter",
    });
    const jittered = await roundTrip(client);
    assert.ok(jittered >= 299 && jittered < 5000, `with jitter: ${jittered.toFixed(1)} ms`);
    assert.equal(proxy.removeToxic("slow"), true);
    assert.equal(proxy.removeToxic("slow"), false, "already gone");
    proxy.clearToxics();
    const again = await roundTrip(client);
    assert.ok(again < slow, `fast again: ${again.toFixed(1)} ms (was ${plain.toFixed(1)} ms)`);
    client.socket.destroy();
  });

  it("reset at once: the client gets ECONNRESET, the upstream never sees a connection", async () => {
    let upstreamConnections = 0;
    const proxy = await proxyTo(await serve(() => upstreamConnections++), {
      toxics: [{ type: "reset" }],
    });
    const client = new Client(proxy.address);
    await client.closed;
    assert.equal(client.error?.code, "ECONNRESET", `error: ${String(client.error)}`);
    assert.equal(upstreamConnections, 0);
    assert.equal(proxy.stats().resets, 1);
  });

  it("reset after N bytes: the client gets at most N bytes, then ECONNRESET", async () => {
    const proxy = await proxyTo(await serve((socket) => socket.write(Buffer.alloc(50_000, 1))), {
      toxics: [{ type: "reset", afterBytes: 1000, stream: "downstream" }],
    });
    const client = new Client(proxy.address);
    await client.closed;
    assert.equal(client.error?.code, "ECONNRESET", `error: ${String(client.error)}`);
    assert.ok(client.received.length <= 1000, `received ${client.received.length} bytes`);
    assert.equal(proxy.stats().bytes.downstream, 1000, "1000 bytes went through, then the reset");
  });

  it("blackhole: bytes are accepted and dropped, nothing arrives; the connection stays open", async () => {
    let arrived = 0;
    const proxy = await proxyTo(
      await serve((socket) => socket.on("data", (chunk: Buffer) => (arrived += chunk.length))),
      { toxics: [{ type: "blackhole", stream: "upstream" }] },
    );
    const client = new Client(proxy.address);
    await client.connected;
    client.socket.write(Buffer.alloc(5000));
    await delay(300);
    assert.equal(arrived, 0, "no byte reached the upstream");
    assert.equal(client.socket.destroyed, false, "still open");
    assert.deepEqual(proxy.stats().dropped, { upstream: 5000, downstream: 0 });
    proxy.removeToxic("blackhole_upstream");
    client.socket.write(Buffer.alloc(10));
    const until = performance.now() + 5000;
    while (arrived < 10 && performance.now() < until) await delay(5);
    assert.equal(arrived, 10, "bytes flow again once it is removed");
    client.socket.destroy();
  });

  it("bandwidth: 100 kB at 100 kB/s take about a second", async () => {
    const proxy = await proxyTo(await serve((socket) => socket.end(Buffer.alloc(100_000, 2))), {
      toxics: [{ type: "bandwidth", bytesPerSecond: 100_000 }],
    });
    const started = performance.now();
    const client = new Client(proxy.address);
    await client.closed;
    const ms = performance.now() - started;
    assert.equal(client.received.length, 100_000, "everything arrived");
    assert.ok(ms >= 950 && ms < 5000, `took ${ms.toFixed(0)} ms`);
  });

  it("slowClose: the end of the stream comes delayMs after the data", async () => {
    const proxy = await proxyTo(await serve((socket) => socket.end("bye")), {
      toxics: [{ type: "slowClose", delayMs: 400 }],
    });
    const client = new Client(proxy.address);
    let dataAt = 0;
    client.socket.once("data", () => (dataAt = performance.now()));
    await client.closed;
    assert.equal(client.received.toString(), "bye");
    assert.ok(
      client.endedAt !== undefined && client.endedAt - dataAt >= 390,
      `FIN ${(client.endedAt ?? 0) - dataAt} ms after the data`,
    );
  });

  it("toxicity 0 never acts; toxics() lists them with defaults; a duplicate name throws", async () => {
    const proxy = await proxyTo(await echo(), {
      toxics: [{ type: "reset", toxicity: 0 }],
      seed: 5,
    });
    const client = new Client(proxy.address);
    await client.connected;
    await roundTrip(client);
    assert.deepEqual(proxy.toxics(), [
      { name: "reset_downstream", type: "reset", stream: "downstream", toxicity: 0, afterBytes: 0 },
    ]);
    assert.throws(() => proxy.addToxic({ type: "reset", toxicity: 0 }), {
      name: "RangeError",
      code: "TIMEBOUND_ERR_INVALID_ARGUMENT",
      message:
        'ToxicProxy.addToxic: a toxic named "reset_downstream" is there already: remove it first, or give this one another name',
    });
    client.socket.destroy();
  });

  it("close(): open connections are cut and the port refuses; the upstream failing resets the client", async () => {
    const proxy = await proxyTo(await echo());
    const client = new Client(proxy.address);
    await client.connected;
    await roundTrip(client);
    await proxy.close();
    await client.closed;
    const late = new Client(proxy.address);
    await late.closed;
    assert.equal(late.error?.code, "ECONNREFUSED");

    const nowhere = await proxyTo(proxy.address); // nothing listens there any more
    const orphan = new Client(nowhere.address);
    await orphan.closed;
    assert.equal(nowhere.stats().upstreamErrors, 1);
  });

  it("bad options reject (never throw) with the option named", async () => {
    const cases: [unknown, RegExp][] = [
      [undefined, /^startToxicProxy: options\.upstream must be a non-empty string, got undefined$/],
      [{ upstream: "localhost" }, /^startToxicProxy: options\.upstream must be "host:port"/],
      [
        { upstream: "127.0.0.1:0" },
        /the port of options\.upstream must be an integer from 1 to 65,535, got 0$/,
      ],
      [
        { upstream: "127.0.0.1:1", toxics: [{ type: "lag" }] },
        /options\.toxics\[0\]\.type must be one of "latency", "bandwidth", "blackhole", "reset", "slowClose", got "lag"$/,
      ],
      [
        { upstream: "127.0.0.1:1", toxics: [{ type: "latency" }] },
        /options\.toxics\[0\]\.latencyMs must be a number of milliseconds/,
      ],
      [
        { upstream: "127.0.0.1:1", toxics: [{ type: "bandwidth", bytesPerSecond: 0 }] },
        /options\.toxics\[0\]\.bytesPerSecond must be a number of bytes per second from 1/,
      ],
      [
        { upstream: "127.0.0.1:1", toxics: [{ type: "reset", latencyMs: 1 }] },
        /unknown option options\.toxics\[0\]\.latencyMs/,
      ],
      [
        { upstream: "127.0.0.1:1", toxics: [{ type: "reset", stream: "up" }] },
        /options\.toxics\[0\]\.stream must be one of "upstream", "downstream", "both", got "up"$/,
      ],
      [
        { upstream: "127.0.0.1:1", port: 70_000 },
        /options\.port must be an integer from 1 to 65,535, got 70000$/,
      ],
      [
        { upstream: "127.0.0.1:1", toxics: [{ type: "reset" }, { type: "reset" }] },
        /a toxic named "reset_downstream" is there already/,
      ],
    ];
    for (const [options, message] of cases) {
      let promise: Promise<unknown> | undefined;
      assert.doesNotThrow(() => {
        promise = startToxicProxy(options as Parameters<typeof startToxicProxy>[0]);
      }, "never throws");
      await assert.rejects(promise!, (err: Error) => {
        assert.match(err.message, message);
        assert.match(
          String((err as { code?: string }).code),
          /^TIMEBOUND_ERR_(INVALID_ARGUMENT|UNKNOWN_OPTION)$/,
        );
        return true;
      });
    }
  });
});
