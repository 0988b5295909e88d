// fanoutFetch against a real 127.0.0.1 server, and fetch(ctx) under a budget whose deadline
// moves while the request is in flight.
import assert from "node:assert/strict";
import { once } from "node:events";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { DeadlineExceeded, background, now, withTimeout } from "../../src/index.js";
import { moveDeadline, withBudget } from "../../src/core/internal.js";
import { fetch } from "../../src/io/http/index.js";
import { BatchFailedError, UpstreamStatusError, fanoutFetch } from "../../src/fanout/index.js";

let server: http.Server;
let base = "";
/** Called with each request as it arrives (the deadline header it carried, its socket). */
let onArrival: ((req: http.IncomingMessage) => void) | undefined;

before(async () => {
  server = http.createServer((req, res) => {
    onArrival?.(req);
    const url = new URL(req.url!, "http://x");
    const reply = (body: unknown) => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify(body));
    };
    if (url.pathname === "/json") return reply({ part: url.searchParams.get("part") });
    if (url.pathname === "/slow") {
      const timer = setTimeout(() => reply({ slow: true }), Number(url.searchParams.get("ms")));
      res.on("close", () => clearTimeout(timer));
      return;
    }
    if (url.pathname === "/status") {
      res.statusCode = Number(url.searchParams.get("code"));
      return res.end("upstream trouble");
    }
    // /hang: never answers; the client's cancel closes the connection.
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // Warm up: the first fetch loads undici and opens a connection, which the budgets below
  // should not have to pay for on a loaded machine.
  await (await fetch(background(), `${base}/json?part=warm`)).text();
});

after(() => {
  server.closeAllConnections();
  server.close();
});

describe("fetch(ctx) under a budget whose deadline moves", () => {
  it("a request in flight honours the later deadline and its answer arrives", async () => {
    const budget = withBudget(background(), 150, { name: "users" });
    onArrival = () => moveDeadline(budget, now() + 3_000);
    try {
      const res = await fetch(budget, `${base}/slow?ms=400`);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { slow: true }, "the body is read under the new deadline");
      assert.equal(budget.err, undefined, "the budget has time left");
    } finally {
      onArrival = undefined;
      budget.cancel();
    }
  });

  it("a request that never answers ends at the new deadline, not the old one", async () => {
    const started = now();
    const budget = withBudget(background(), 150);
    let closed: Promise<unknown> | undefined;
    let sentHeader: string | undefined;
    onArrival = (req) => {
      sentHeader = req.headers["timebound-timeout"] as string | undefined;
      closed = once(req.socket, "close");
      moveDeadline(budget, now() + 500);
    };
    try {
      await assert.rejects(fetch(budget, `${base}/hang`), DeadlineExceeded);
    } finally {
      onArrival = undefined;
    }
    const took = now() - started;
    assert.ok(took >= 450, `ended after ${took} ms: the old 150 ms deadline`);
    assert.ok(closed !== undefined, "the request reached the server");
    await closed; // the connection was closed: the server's work stops too
    // The deadline header left before the move: the server was told the earlier one.
    assert.ok(
      sentHeader !== undefined && Number.parseInt(sentHeader) <= 150,
      `header ${sentHeader}`,
    );
  });
});

describe("fanoutFetch", () => {
  it("merges the parts into one object and names the optional ones missing", async () => {
    using ctx = withTimeout(background(), 2_000);
    const { data, missing } = await fanoutFetch(
      ctx,
      {
        user: `${base}/json?part=user`,
        orders: { url: new URL(`${base}/json?part=orders`), weight: 2 },
        recs: { url: `${base}/status?code=503`, optional: true },
        ads: { url: `${base}/hang`, optional: true, weight: 0.1, p95Ms: 1 },
        raw: { url: `${base}/json?part=raw`, read: (res) => res.text() },
      },
      { reserveMs: 300 },
    ); // compensation gives the hanging part all but the reserve
    assert.deepEqual(data.user, { part: "user" });
    assert.deepEqual(data.orders, { part: "orders" });
    const raw: string | undefined = data.raw;
    assert.equal(raw, '{"part":"raw"}');
    assert.equal(data.recs, undefined);
    assert.equal(data.ads, undefined);
    const byKey = Object.fromEntries(missing.map((m) => [m.key, m]));
    assert.ok(byKey.recs!.reason instanceof UpstreamStatusError, "a 503 is a failure");
    assert.equal(byKey.recs!.reason.status, 503);
    assert.match(byKey.recs!.message, /answered HTTP 503/);
    assert.equal(byKey.ads!.status, "timed-out", "the hanging part was cut at its budget");
    assert.equal(ctx.err, undefined, "before the caller's deadline");
  });

  it("rejects with BatchFailedError naming a required part that failed", async () => {
    await assert.rejects(
      fanoutFetch(withTimeout(background(), 2_000), {
        user: `${base}/json?part=user`,
        cart: `${base}/status?code=500`,
      }),
      (err: unknown) =>
        err instanceof BatchFailedError &&
        /required call "cart" failed: .*answered HTTP 500/.test(err.message) &&
        err.missing.some((m) => m.key === "cart" && m.reason instanceof UpstreamStatusError),
    );
  });

  it("rejects bad requests", async () => {
    await assert.rejects(
      fanoutFetch(background(), [] as never),
      /fanoutFetch: requests must be a record/,
    );
    await assert.rejects(
      fanoutFetch(background(), { a: { url: 5 as never } }),
      /fanoutFetch: requests\["a"\]\.url must be a URL string or a URL/,
    );
    await assert.rejects(
      fanoutFetch(background(), { a: { url: base, wieght: 2 } as never }),
      /unknown option/,
    );
    await assert.rejects(fanoutFetch(background(), {}), /batch: calls must hold at least one call/);
  });
});
