// Aggregation routes against real upstreams on loopback: every part fetched under the route's one
// deadline, the missing optional parts named with their reason, a required part missing failing
// the request with the JSON reason, and the client's going canceling every part upstream.
import assert from "node:assert/strict";
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { request } from "undici";
import { createGateway, type Gateway, type RequestRecord } from "../src/gateway.js";
import { parseConfig } from "../src/config/load.js";

async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ server: Server; origin: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

interface Seen {
  path: string;
  timeout: string | undefined;
  closedEarly: boolean;
}

describe("aggregation routes", () => {
  let users: { server: Server; origin: string };
  let extras: { server: Server; origin: string };
  let front: { server: Server; origin: string };
  let gateway: Gateway;
  const seen: Seen[] = [];
  const records: RequestRecord[] = [];

  function track(req: IncomingMessage, res: ServerResponse): Seen {
    const s: Seen = {
      path: req.url ?? "",
      timeout: req.headers["x-envoy-expected-rq-timeout-ms"] as string | undefined,
      closedEarly: false,
    };
    seen.push(s);
    res.on("close", () => {
      if (!res.writableFinished) s.closedEarly = true;
    });
    return s;
  }

  before(async () => {
    users = await listen((req, res) => {
      track(req, res);
      if (req.url?.startsWith("/hang")) return;
      if (req.url === "/broken") {
        res.writeHead(503).end("down");
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ user: req.url }));
    });
    extras = await listen((req, res) => {
      track(req, res);
      if (req.url?.startsWith("/hang")) return; // an optional part that never answers
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(`extra ${req.url ?? ""}`);
    });
    gateway = createGateway(
      parseConfig(`
listen: { port: 0 }
upstreams:
  users: { targets: ["${users.origin}"] }
  extras: { targets: ["${extras.origin}"] }
routes:
  - path: /page/:id
    timeoutMs: 1000
    aggregate:
      user: { upstream: users, path: "/users/:id" }
      note: { upstream: extras, path: "/notes/:id", required: false }
      recs: { upstream: extras, path: "/hang/recs", required: false, weight: 0.5 }
  - path: /fails
    timeoutMs: 300
    aggregate:
      user: { upstream: users, path: /broken }
      note: { upstream: extras, path: /hang/note, required: false }
  - path: /slow
    timeoutMs: 200
    aggregate:
      user: { upstream: users, path: /hang/user }
  - path: /gone
    timeoutMs: 5000
    aggregate:
      user: { upstream: users, path: /hang/a }
      other: { upstream: extras, path: /hang/b }
      note: { upstream: extras, path: /hang/c, required: false }
`),
      { onRequest: (r) => records.push(r) },
    );
    front = await listen(gateway.handle);
  });

  after(async () => {
    await gateway.close(100);
    front.server.close();
    for (const u of [users, extras]) {
      u.server.closeAllConnections();
      u.server.close();
    }
  });

  it("answers the parts it has and names the missing optional part and why", async () => {
    seen.length = 0;
    const t0 = performance.now();
    const res = await request(`${front.origin}/page/42`);
    const ms = performance.now() - t0;
    assert.equal(res.statusCode, 200);
    const doc = (await res.body.json()) as {
      parts: Record<string, unknown>;
      missing: { part: string; reason: string; message: string }[];
    };
    assert.deepEqual(doc.parts, {
      user: { user: "/users/42" },
      note: "extra /notes/42",
      recs: null,
    });
    assert.equal(doc.missing.length, 1, JSON.stringify(doc.missing));
    assert.equal(doc.missing[0]!.part, "recs");
    assert.equal(doc.missing[0]!.reason, "timed-out");
    assert.match(doc.missing[0]!.message, /timed out after \d+ ms \(budget \d+ ms\)/);
    assert.ok(
      ms < 2000,
      `answered in ${Math.round(ms)} ms on a 1000 ms route (the hung part did not hold it)`,
    );
    // Each part's request carried its own time left, within the route's deadline.
    for (const s of seen) {
      const left = Number(s.timeout);
      assert.ok(left > 0 && left <= 1000, `${s.path} was told ${s.timeout} ms`);
    }
    await new Promise((r) => setTimeout(r, 30));
    const hung = seen.find((s) => s.path === "/hang/recs");
    assert.equal(hung?.closedEarly, true, "the hanging part's upstream request was closed");
  });

  it("fails with 502 and the JSON reason when a required part fails", async () => {
    const res = await request(`${front.origin}/fails`);
    assert.equal(res.statusCode, 502);
    const body = (await res.body.json()) as {
      error: string;
      message: string;
      route: string;
      missing: { part: string; reason: string; status?: number }[];
    };
    assert.equal(body.error, "upstream-failed");
    assert.match(body.message, /required part "user" is missing: the upstream answered 503/);
    assert.deepEqual(
      body.missing.find((m) => m.part === "user"),
      {
        part: "user",
        reason: "upstream-status",
        status: 503,
        message: "the upstream answered 503",
      },
    );
    assert.equal(body.route, "* /fails");
  });

  it("fails with 504 when a required part runs out of time", async () => {
    const t0 = performance.now();
    const res = await request(`${front.origin}/slow`);
    const ms = performance.now() - t0;
    assert.equal(res.statusCode, 504);
    const body = (await res.body.json()) as { error: string; missing: { reason: string }[] };
    assert.equal(body.error, "deadline-exceeded");
    assert.equal(body.missing[0]?.reason, "timed-out");
    assert.ok(ms < 1000, `answered in ${Math.round(ms)} ms on a 200 ms route`);
  });

  it("cancels every part upstream when the client goes away", async () => {
    seen.length = 0;
    records.length = 0;
    const ac = new AbortController();
    const pending = request(`${front.origin}/gone`, { signal: ac.signal }).catch(() => undefined);
    const t0 = performance.now();
    while (seen.length < 3 && performance.now() - t0 < 2000) {
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(seen.length, 3, "the three parts reached their upstreams");
    ac.abort();
    await pending;
    const t1 = performance.now();
    while (!seen.every((s) => s.closedEarly) && performance.now() - t1 < 1000) {
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.deepEqual(
      seen.map((s) => [s.path, s.closedEarly]).sort(),
      [
        ["/hang/a", true],
        ["/hang/b", true],
        ["/hang/c", true],
      ],
      "every part's upstream request was closed",
    );
    assert.ok(performance.now() - t1 < 200, "closed soon after the client left (not at 5 s)");
    while (records.length === 0 && performance.now() - t1 < 1000) {
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(records[0]?.reason, "client-closed");
  });
});
