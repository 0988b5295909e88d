import assert from "node:assert/strict";
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import { Profile } from "pprof-format";
import { type CancelableContext, background, withCancel } from "../../src/index.js";
import { debugHandler } from "../../src/diagnostics/http-handler.js";
import { parseJsonReport } from "../../src/diagnostics/report-json.js";
import { type Tracking, track } from "../../src/diagnostics/track.js";

interface Got {
  readonly status: number;
  readonly type: string;
  readonly body: Buffer;
  readonly text: string;
}

async function get(base: string, path: string, method = "GET"): Promise<Got> {
  const res = await fetch(`${base}${path}`, { method });
  const body = Buffer.from(await res.arrayBuffer());
  return {
    status: res.status,
    type: res.headers.get("content-type") ?? "",
    body,
    text: body.toString("utf8"),
  };
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
}

describe("debugHandler over a real loopback server", () => {
  let tracking: Tracking;
  let server: Server;
  let base: string;
  const live: CancelableContext[] = [];

  function acceptSession(): CancelableContext {
    return withCancel(background(), { name: "session" });
  }

  before(async () => {
    tracking = track({
      timers: false,
      dumpSignal: false,
      neverCanceledMs: 0,
      sampleIntervalMs: 50,
    });
    for (let i = 0; i < 5; i++) live.push(acceptSession());
    const debug = debugHandler();
    server = createServer((req, res) => {
      if (debug(req, res)) return;
      res.end("app");
    });
    base = await listen(server);
    await new Promise((resolve) => setTimeout(resolve, 120)); // a few growth samples
  });

  after(async () => {
    for (const ctx of live) ctx.cancel();
    tracking.stop();
    await new Promise((resolve) => server.close(resolve));
  });

  it("serves an index linking every route", async () => {
    const got = await get(base, "/debug/timebound/");
    assert.equal(got.status, 200);
    assert.match(got.type, /^text\/html/);
    for (const route of [
      "contexts",
      "operations",
      "findings",
      "snapshot.json",
      "profile.pb.gz",
      "flamegraph.html",
      "growth.csv",
      "growth.svg",
    ]) {
      assert.match(got.text, new RegExp(`href="/debug/timebound/${route.replace(".", "\\.")}"`));
    }
    assert.match(got.text, /5 live contexts/);
  });

  it("contexts?debug=1 groups by stack; ?debug=2 lists each", async () => {
    const one = await get(base, "/debug/timebound/contexts?debug=1");
    assert.equal(one.status, 200);
    assert.match(one.text, /\n5 @ withCancel "session" \(no deadline\)/);
    assert.match(one.text, /\n#\tacceptSession\t/);
    const two = await get(base, "/debug/timebound/contexts?debug=2");
    assert.equal(two.text.match(/\ncontext \d+ "session" \[withCancel, live/g)?.length, 5);
  });

  it("findings, snapshot.json and the other outputs", async () => {
    const findings = await get(base, "/debug/timebound/findings");
    assert.match(findings.text, /\[never-canceled\] 5 contexts "session"/);
    const json = await get(base, "/debug/timebound/snapshot.json");
    assert.match(json.type, /^application\/json/);
    const snapshot = parseJsonReport(json.text);
    assert.equal(snapshot.contexts.filter((c) => c.name === "session").length, 5);
    const pprof = await get(base, "/debug/timebound/profile.pb.gz");
    const profile = Profile.decode(gunzipSync(pprof.body));
    const names = profile.function.map((f) => profile.stringTable.strings[Number(f.name)]);
    assert.ok(names.includes("acceptSession"), names.join(", "));
    const flame = await get(base, "/debug/timebound/flamegraph.html");
    assert.match(flame.type, /^text\/html/);
    assert.match(flame.text, /acceptSession/);
    assert.match((await get(base, "/debug/timebound/stacks.folded")).text, /acceptSession/);
    assert.match((await get(base, "/debug/timebound/growth.csv")).text, /liveContexts/);
    const svg = await get(base, "/debug/timebound/growth.svg");
    assert.equal(svg.type, "image/svg+xml");
    assert.match(svg.text, /^<svg|<\?xml/);
  });

  it("answers bad requests clearly and leaves other paths to the app", async () => {
    assert.equal((await get(base, "/debug/timebound/contexts?debug=3")).status, 400);
    const missing = await get(base, "/debug/timebound/nothing");
    assert.equal(missing.status, 404);
    assert.match(missing.text, /routes: /);
    assert.equal((await get(base, "/debug/timebound/contexts", "POST")).status, 405);
    assert.equal((await get(base, "/debug/timebound/contexts", "HEAD")).status, 200);
    assert.equal((await get(base, "/other")).text, "app");
  });

  it("while nothing is tracked: 503 with how to turn tracking on", async () => {
    tracking.stop();
    try {
      const got = await get(base, "/debug/timebound/contexts");
      assert.equal(got.status, 503);
      assert.match(got.text, /tracking is off/);
      const index = await get(base, "/debug/timebound");
      assert.equal(index.status, 200);
      assert.match(index.text, /tracking is off/);
    } finally {
      tracking = track({ timers: false, dumpSignal: false });
    }
  });

  it("answers other paths itself with otherPaths: 404, for a server of its own", async () => {
    const own = createServer((req, res) => void debugHandler({ otherPaths: "404" })(req, res));
    const ownBase = await listen(own);
    try {
      const got = await get(ownBase, "/metrics");
      assert.equal(got.status, 404);
      assert.match(got.text, /try \/debug\/timebound\//);
    } finally {
      await new Promise((resolve) => own.close(resolve));
    }
  });

  it("rejects a bad prefix", () => {
    assert.throws(
      () => debugHandler({ prefix: "debug" }),
      /options\.prefix must be a path starting with "\/"/,
    );
  });
});
