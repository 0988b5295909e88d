// Hostile input: malformed requests, huge heads, slow heads, bodies over the limit, deadline
// headers that lie. Each gets a clear 4xx (or is ignored, for a bad deadline header), nothing
// that should not reach the upstream does, and the gateway keeps serving.
import assert from "node:assert/strict";
import { type IncomingMessage, type Server, createServer } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { request } from "undici";
import { parseConfig, startGateway, type RunningGateway } from "../src/index.js";

function rawExchange(port: number, payload: string, waitMs = 3_000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let got = "";
    socket.setEncoding("utf8");
    socket.on("data", (c: string) => (got += c));
    socket.on("close", () => resolve(got));
    socket.on("error", () => resolve(got));
    socket.write(payload);
    setTimeout(() => socket.destroy(), waitMs).unref();
  });
}

describe("hostile input at the gateway", () => {
  let upstream: Server;
  let gw: RunningGateway;
  let port: number;
  const reached: {
    url: string;
    bytes: number;
    complete: boolean;
    headers: IncomingMessage["headers"];
  }[] = [];

  before(async () => {
    upstream = createServer((req, res) => {
      const record = { url: req.url ?? "", bytes: 0, complete: false, headers: req.headers };
      reached.push(record);
      req.on("data", (c: Buffer) => (record.bytes += c.length));
      req.on("end", () => {
        record.complete = true;
        res.end("ok");
      });
    });
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
    const origin = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    gw = await startGateway({
      config: parseConfig(`
listen: { host: 127.0.0.1, port: 0 }
limits: { maxHeaderBytes: 4096, headersTimeoutMs: 300, maxBodyBytes: 1000 }
upstreams: { u: { targets: ["${origin}"] } }
routes: [{ path: "/*", upstream: u, timeoutMs: 2000 }]
`),
    });
    port = Number(new URL(gw.url).port);
  });

  after(async () => {
    await gw.stop();
    upstream.closeAllConnections();
    upstream.close();
  });

  it("answers a malformed request line with 400", async () => {
    const got = await rawExchange(port, "GARBAGE\r\n\r\n");
    assert.match(got, /^HTTP\/1\.1 400 Bad Request/);
  });

  it("answers headers over maxHeaderBytes with 431, passing nothing upstream", async () => {
    reached.length = 0;
    const got = await rawExchange(
      port,
      `GET /big HTTP/1.1\r\nhost: x\r\nx-big: ${"a".repeat(8000)}\r\n\r\n`,
    );
    assert.match(got, /^HTTP\/1\.1 431/);
    assert.equal(reached.length, 0);
  });

  it("cuts a slow head (slowloris) after headersTimeoutMs with 408", async () => {
    const t0 = performance.now();
    const got = await rawExchange(port, "GET /slow HTTP/1.1\r\nhost: x\r\nx-a: 1\r\n", 5_000);
    const ms = performance.now() - t0;
    assert.match(got, /^HTTP\/1\.1 408/);
    assert.ok(ms < 2_000, `the slow head was cut after ${Math.round(ms)} ms (limit 300 ms)`);
  });

  it("answers a Content-Length over the limit with 413 before reading it, passing nothing upstream", async () => {
    reached.length = 0;
    const res = await request(`${gw.url}/upload`, { method: "POST", body: "x".repeat(5000) });
    assert.equal(res.statusCode, 413);
    assert.equal(((await res.body.json()) as { error: string }).error, "body-too-large");
    assert.equal(reached.length, 0);
  });

  it("answers a chunked body over the limit with 413, and the upstream never gets it complete", async () => {
    reached.length = 0;
    async function* chunks() {
      for (let i = 0; i < 10; i++) {
        await new Promise((r) => setImmediate(r)); // one chunk per turn: sent chunked
        yield Buffer.alloc(500, 120);
      }
    }
    const res = await request(`${gw.url}/upload`, {
      method: "POST",
      body: Readable.from(chunks()),
    });
    assert.equal(res.statusCode, 413);
    await res.body.dump();
    assert.ok(
      reached.every((r) => !r.complete && r.bytes <= 1000),
      JSON.stringify(reached),
    );
  });

  for (const [header, value] of [
    ["grpc-timeout", "abc"],
    ["grpc-timeout", "-5m"],
    ["timebound-timeout", "999999999S"],
    ["x-envoy-expected-rq-timeout-ms", "1e3"],
    ["x-envoy-expected-rq-timeout-ms", "-1"],
  ] as const) {
    it(`ignores a bad deadline header ${header}: ${value} (the route's deadline applies)`, async () => {
      reached.length = 0;
      const res = await request(`${gw.url}/ok`, { headers: { [header]: value } });
      assert.equal(res.statusCode, 200);
      await res.body.dump();
      const sent = Number(reached[0]!.headers["x-envoy-expected-rq-timeout-ms"]);
      assert.ok(sent > 1000 && sent <= 2000, `the upstream was told ${sent} ms (route: 2000)`);
    });
  }

  it("keeps serving after all of that", async () => {
    const res = await request(`${gw.url}/still`);
    assert.equal(res.statusCode, 200);
    assert.equal(await res.body.text(), "ok");
  });
});
