// The time left a request's deadline had when its answer went out, as the access log and metrics
// get it: positive for an answer in time, negative (by how late) for one that went out after the
// deadline, as when the gateway's event loop was blocked past it.
import assert from "node:assert/strict";
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { request } from "undici";
import { createGateway, type Gateway, type RequestRecord } from "../src/gateway.js";
import { parseConfig } from "../src/index.js";

describe("time left at the answer", () => {
  let upstream: Server;
  let front: Server;
  let gateway: Gateway;
  let origin: string;
  let arrived: () => void = () => undefined;
  const records: RequestRecord[] = [];

  before(async () => {
    upstream = createServer((req, res) => {
      arrived();
      if (req.url !== "/hang") res.end("ok");
    });
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
    gateway = createGateway(
      parseConfig(`
listen: { port: 0 }
upstreams: { u: { targets: ["http://127.0.0.1:${(upstream.address() as AddressInfo).port}"] } }
routes:
  - { path: /hang, upstream: u, timeoutMs: 50 }
  # The answer in time gets room: a first request on a loaded machine can take 50 ms.
  - { path: /*, upstream: u, timeoutMs: 5000 }
`),
      { onRequest: (r) => records.push(r) },
    );
    front = createServer(gateway.handle);
    await new Promise<void>((r) => front.listen(0, "127.0.0.1", r));
    origin = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
  });
  after(async () => {
    await gateway.close(100);
    front.close();
    upstream.closeAllConnections();
    upstream.close();
  });

  it("is positive for an answer in time", async () => {
    records.length = 0;
    const res = await request(`${origin}/fast`);
    assert.equal(await res.body.text(), "ok");
    const left = records[0]?.timeLeftMs;
    assert.ok(left !== undefined && left > 0 && left <= 5_000, `time left ${left} ms of 5000`);
  });

  it("is negative, by how late, for an answer that went out after the deadline", async () => {
    records.length = 0;
    const reached = new Promise<void>((r) => (arrived = r));
    const answer = request(`${origin}/hang`);
    await reached;
    // Block this process (the gateway's too) well past the 50 ms deadline.
    const until = performance.now() + 150;
    while (performance.now() < until);
    const res = await answer;
    assert.equal(res.statusCode, 504);
    await res.body.dump();
    const record = records[0];
    assert.equal(record?.reason, "deadline-exceeded");
    assert.ok(
      record.timeLeftMs !== undefined && record.timeLeftMs <= -50,
      `the 504 went out ${record.timeLeftMs} ms from the deadline: at least 50 ms late`,
    );
  });
});
