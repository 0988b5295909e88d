// The upstream exchange's read-ahead: what arrives before the route's policies keep an answer is
// held (bounded), then passed on in order, followed by what comes after. Driven through
// undici's handler calls directly, so that the chunks arrive exactly when each case needs them;
// the client side is a real node:http response on loopback.
import assert from "node:assert/strict";
import { type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { request } from "undici";
import type { Dispatcher } from "undici";
import { UpstreamExchange } from "../src/upstream/exchange.js";

/** Undici's controller, as far as the exchange uses it: counts pauses and resumes. */
function controller(): Dispatcher.DispatchController & { pauses: number; resumes: number } {
  let aborted = false;
  return {
    get aborted() {
      return aborted;
    },
    paused: false,
    reason: null,
    pauses: 0,
    resumes: 0,
    abort() {
      aborted = true;
    },
    pause() {
      this.pauses++;
    },
    resume() {
      this.resumes++;
    },
  };
}

/** Serves one request with `respond`, and returns what the client read. */
async function throughClient(respond: (res: ServerResponse) => void): Promise<string> {
  const server = createServer((_req, res) => respond(res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const res = await request(`http://127.0.0.1:${port}/`);
    return await res.body.text();
  } finally {
    server.close();
  }
}

describe("the upstream exchange's read-ahead", () => {
  it("passes on chunks held before the answer was kept in order, then the ones after", async () => {
    const body = await throughClient((res) => {
      const c = controller();
      const exchange = new UpstreamExchange();
      exchange.onRequestStart(c);
      exchange.onResponseStart(c, 200, { "content-type": "text/plain" });
      for (const part of ["one ", "two ", "three "]) exchange.onResponseData(c, Buffer.from(part));
      exchange.pipeTo(res, ["x-request-id", "r1"], () => undefined);
      exchange.onResponseData(c, Buffer.from("four"));
      exchange.onResponseEnd();
    });
    assert.equal(body, "one two three four");
  });

  it("passes on an answer held whole (its end too) once it is kept", async () => {
    let done: Error | undefined | "not yet" = "not yet";
    const body = await throughClient((res) => {
      const c = controller();
      const exchange = new UpstreamExchange();
      exchange.onRequestStart(c);
      exchange.onResponseStart(c, 200, {});
      exchange.onResponseData(c, Buffer.from("whole"));
      exchange.onResponseEnd();
      exchange.pipeTo(res, [], (err) => (done = err));
    });
    assert.equal(body, "whole");
    assert.equal(done, undefined);
  });

  it("reads a held answer whole for the stale cache, the chunks in order", async () => {
    const c = controller();
    const exchange = new UpstreamExchange();
    exchange.onRequestStart(c);
    exchange.onResponseStart(c, 200, { "content-type": "text/plain", "content-length": "9" });
    exchange.onResponseData(c, Buffer.from("abc"));
    exchange.onResponseData(c, Buffer.from("def"));
    const answer = exchange.buffer(1024);
    exchange.onResponseData(c, Buffer.from("ghi"));
    exchange.onResponseEnd();
    const read = await answer;
    assert.equal(read.body.toString(), "abcdefghi");
    assert.equal(read.status, 200);
    assert.deepEqual(read.headers, { "content-type": "text/plain" }); // its length is recomputed
  });

  it("pauses the upstream read past 64 KB held, and resumes it once the answer is kept", async () => {
    const c = controller();
    const exchange = new UpstreamExchange();
    exchange.onRequestStart(c);
    exchange.onResponseStart(c, 200, {});
    const chunk = Buffer.alloc(16 * 1024, 120);
    for (let i = 0; i < 4; i++) exchange.onResponseData(c, chunk);
    assert.equal(c.pauses, 0, "64 KB held is within the read-ahead");
    exchange.onResponseData(c, chunk);
    assert.equal(c.pauses, 1, "past it, the read pauses");
    const answer = exchange.buffer(1024 * 1024);
    assert.equal(c.resumes, 1, "keeping the answer resumes the read");
    exchange.onResponseEnd();
    assert.equal((await answer).body.length, 5 * 16 * 1024);
  });
});
