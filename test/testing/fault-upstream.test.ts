// startFaultUpstream: each fault seen from a real client over real sockets, against the real
// child process; the counts exact; the seed reproducible; the process gone after close() and
// after the test process is killed; bad options refused with clear errors.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as http from "node:http";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import {
  type FaultUpstream,
  FaultUpstreamError,
  startFaultUpstream,
} from "../../src/testing/fault-upstream.js";
import { isProcessRunning } from "../../src/testing/proc-stat.js";

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
after(() => agent.destroy());

interface Answer {
  readonly status: number;
  readonly fault: string;
  readonly delayMs: number;
  readonly retryAfter: string | undefined;
  readonly body: string;
  readonly ms: number;
}

/** GET `url`; rejects with the socket's error (ECONNRESET) or an AbortError for `signal`. */
function get(url: string, signal?: AbortSignal): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, signal }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          fault: String(res.headers["x-fault"]),
          delayMs: Number(res.headers["x-fault-delay-ms"]),
          retryAfter: res.headers["retry-after"],
          body,
          ms: performance.now() - started,
        }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
  });
}

async function getMany(url: string, n: number, concurrency: number): Promise<Answer[]> {
  const answers: Answer[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        next++;
        answers.push(await get(url));
      }
    }),
  );
  return answers;
}

async function waitFor<T>(read: () => Promise<T>, done: (v: T) => boolean, ms = 5000): Promise<T> {
  const until = performance.now() + ms;
  let v = await read();
  while (!done(v) && performance.now() < until) {
    await delay(10);
    v = await read();
  }
  return v;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const upstreams: FaultUpstream[] = [];
after(() => Promise.all(upstreams.map((u) => u.close())));
async function start(options?: Parameters<typeof startFaultUpstream>[0]): Promise<FaultUpstream> {
  const u = await startFaultUpstream(options);
  upstreams.push(u);
  return u;
}

describe("startFaultUpstream", { timeout: 120_000 }, () => {
  it("latency: lognormal and Pareto samples have the shape asked for; the client waits at least that long", async () => {
    const upstream = await start({
      seed: 11,
      latency: { type: "lognormal", medianMs: 20, sigma: 0.5 },
      routes: { "/pareto": { latency: { type: "pareto", minMs: 5, alpha: 2, maxMs: 200 } } },
    });
    const logn = await getMany(`${upstream.url}/x`, 200, 20);
    const delays = logn.map((a) => a.delayMs);
    const m = median(delays);
    assert.ok(m > 15 && m < 27, `median of lognormal(20 ms, 0.5) samples: ${m}`);
    const above60 = delays.filter((d) => d > 60).length; // P(X > 3 × median) ≈ 1.4%
    assert.ok(above60 >= 0 && above60 < 15, `${above60} of 200 above 60 ms`);
    for (const a of logn) {
      assert.equal(a.status, 200, "answered");
      assert.ok(a.ms >= a.delayMs - 1, `waited ${a.ms} ms for a ${a.delayMs} ms sample`);
    }
    const pareto = (await getMany(`${upstream.url}/pareto`, 200, 20)).map((a) => a.delayMs);
    assert.ok(Math.min(...pareto) >= 5, `Pareto never below minMs: ${Math.min(...pareto)}`);
    assert.ok(Math.max(...pareto) <= 200, `capped at maxMs: ${Math.max(...pareto)}`);
    const pm = median(pareto); // 5 × 2^(1/2) ≈ 7.07
    assert.ok(pm > 6 && pm < 8.5, `median of Pareto(5 ms, 2): ${pm}`);
  });

  it("errorRate: the share of errors is within a binomial bound, with the status and Retry-After asked for", async () => {
    const upstream = await start({
      seed: 3,
      errorRate: 0.3,
      errorStatus: 503,
      retryAfterSeconds: 2,
    });
    const answers = await getMany(upstream.url, 400, 20);
    const errors = answers.filter((a) => a.status === 503);
    // mean 120, sd ≈ 9.2: five sd either side
    assert.ok(errors.length > 74 && errors.length < 166, `${errors.length} errors of 400 at 30%`);
    for (const e of errors) {
      assert.equal(e.retryAfter, "2", "Retry-After on an injected error");
      assert.equal(e.fault, "error");
    }
    const ok = answers.filter((a) => a.status === 200);
    assert.equal(ok.length + errors.length, 400, "every other answer is a 200");
    assert.ok(
      ok.every((a) => a.retryAfter === undefined),
      "no Retry-After on a 200",
    );
    const stats = await upstream.stats();
    assert.deepEqual(stats.byStatus, { 200: ok.length, 503: errors.length });
    assert.equal(stats.injected.errors, errors.length);
  });

  it("hangRate: a hanging request is answered only by the client's abort, and counted as cancelled", async () => {
    const upstream = await start({ routes: { "/hang": { hangRate: 1 } } });
    const aborter = new AbortController();
    const hanging = get(`${upstream.url}/hang`, aborter.signal);
    let settled = false;
    hanging.then(
      () => (settled = true),
      () => (settled = true),
    );
    const inFlight = await waitFor(
      () => upstream.stats(),
      (s) => s.inFlight === 1,
    );
    assert.equal(inFlight.inFlight, 1, "the request is held");
    await delay(300);
    assert.equal(settled, false, "no answer after 300 ms");
    aborter.abort();
    await assert.rejects(hanging, { name: "AbortError" });
    const stats = await waitFor(
      () => upstream.stats(),
      (s) => s.cancelled === 1,
    );
    assert.equal(stats.cancelled, 1, "the client went away: cancelled");
    assert.equal(stats.inFlight, 0);
    assert.equal(stats.answered, 0);
    assert.equal(stats.injected.hangs, 1);
    assert.equal(stats.routes["/hang"]?.cancelled, 1, "counted on its route");
    assert.equal((await get(`${upstream.url}/other`)).status, 200, "other paths answer");
  });

  it("outage window: fails inside [fromMs, toMs) counted from configure(), answers outside it", async () => {
    const upstream = await start();
    const t0 = performance.now();
    await upstream.configure({
      outages: [{ fromMs: 1000, toMs: 2500, mode: "fail", status: 502 }],
      retryAfterSeconds: 1,
    });
    const zero = performance.now();
    const slack = zero - t0; // the upstream's clock started at most this much earlier
    const seen: { s: number; r: number; status: number; retryAfter: string | undefined }[] = [];
    while (performance.now() - zero < 3500) {
      const s = performance.now() - zero;
      const a = await get(upstream.url);
      seen.push({ s, r: performance.now() - zero, status: a.status, retryAfter: a.retryAfter });
      await delay(50);
    }
    const inside = seen.filter((x) => x.s >= 1000 && x.r + slack < 2500);
    const outside = seen.filter((x) => x.r + slack < 1000 || x.s >= 2500);
    assert.ok(
      inside.length >= 3 && outside.length >= 3,
      `${inside.length} inside, ${outside.length} outside`,
    );
    for (const x of inside) {
      assert.equal(x.status, 502, `inside the window at ${x.s.toFixed(0)} ms`);
      assert.equal(x.retryAfter, "1");
    }
    for (const x of outside)
      assert.equal(x.status, 200, `outside the window at ${x.s.toFixed(0)} ms`);
  });

  it("a repeating window (everyMs) in mode slow multiplies the latency inside it only", async () => {
    const upstream = await start();
    const t0 = performance.now();
    await upstream.configure({
      latency: 5,
      outages: [{ fromMs: 0, toMs: 500, everyMs: 1000, mode: "slow", factor: 10 }],
    });
    const zero = performance.now();
    const slack = zero - t0;
    const seen: { s: number; r: number; delayMs: number }[] = [];
    while (performance.now() - zero < 3000) {
      const s = performance.now() - zero;
      const a = await get(upstream.url);
      seen.push({ s, r: performance.now() - zero, delayMs: a.delayMs });
      await delay(20);
    }
    // The upstream saw the request at some time in [s, r + slack]: decided when that whole
    // interval lies in one half of a period.
    const half = (t: number): number => Math.floor(t / 500) % 2; // 0: inside the window
    const sure = seen.filter((x) => Math.floor(x.s / 500) === Math.floor((x.r + slack) / 500));
    const inside = sure.filter((x) => half(x.s) === 0);
    const outside = sure.filter((x) => half(x.s) === 1);
    assert.ok(
      inside.length >= 3 && outside.length >= 3,
      `${inside.length} inside, ${outside.length} outside`,
    );
    for (const x of inside) assert.equal(x.delayMs, 50, `slowed at ${x.s.toFixed(0)} ms`);
    for (const x of outside) assert.equal(x.delayMs, 5, `not slowed at ${x.s.toFixed(0)} ms`);
  });

  it("outage modes reset and hang, and resetRate: ECONNRESET, and no answer until the client goes", async () => {
    const upstream = await start({
      routes: {
        "/reset": { outages: [{ fromMs: 0, toMs: Infinity, mode: "reset" }] },
        "/hang": { outages: [{ fromMs: 0, toMs: Infinity, mode: "hang" }] },
        "/flaky": { resetRate: 1 },
      },
    });
    await assert.rejects(get(`${upstream.url}/reset`), { code: "ECONNRESET" });
    await assert.rejects(get(`${upstream.url}/flaky`), { code: "ECONNRESET" }, "resetRate");
    await assert.rejects(get(`${upstream.url}/hang`, AbortSignal.timeout(300)), {
      name: "AbortError",
    });
    const stats = await waitFor(
      () => upstream.stats(),
      (s) => s.inFlight === 0,
    );
    assert.deepEqual(stats.injected, { errors: 0, outageFailures: 0, hangs: 1, resets: 2 });
    assert.equal(
      stats.cancelled,
      1,
      "the hang was cancelled; the reset is not counted as cancelled",
    );
  });

  it("capacity: latency grows with the in-flight count, as 1 + inFlight / capacity", async () => {
    const upstream = await start({ latency: 50, capacity: 10 });
    const alone = await get(upstream.url);
    assert.equal(alone.delayMs, 50, "alone: the base latency");
    const crowd = await Promise.all(Array.from({ length: 40 }, () => get(upstream.url)));
    const factors = crowd.map((a) => (a.delayMs / 50 - 1) * 10);
    for (const f of factors) {
      assert.ok(Math.abs(f - Math.round(f)) < 1e-6 && f >= 0 && f < 40, `in flight before: ${f}`);
    }
    const most = Math.max(...factors);
    assert.ok(most >= 20, `at least 20 others in flight for one request: ${most}`);
    const slowest = crowd.reduce((a, b) => (a.delayMs > b.delayMs ? a : b));
    assert.ok(slowest.ms >= slowest.delayMs - 1, `the client waited ${slowest.ms} ms`);
    assert.ok((await upstream.stats()).peakInFlight >= 21, "peak in flight");
  });

  it("stats: exact counts per route, per status and per second; resetStats() starts again", async () => {
    const upstream = await start({
      routes: { "/a": {}, "/b": { errorRate: 1, errorStatus: 500 }, "/h": { hangRate: 1 } },
    });
    await getMany(`${upstream.url}/a/1`, 30, 5);
    await getMany(`${upstream.url}/b`, 20, 5);
    await get(`${upstream.url}/zzz`);
    const aborter = new AbortController();
    const hangs = Array.from({ length: 5 }, () =>
      get(`${upstream.url}/h`, aborter.signal).catch(() => undefined),
    );
    const held = await waitFor(
      () => upstream.stats(),
      (s) => s.inFlight === 5,
    );
    assert.equal(held.peakInFlight >= 5, true, "peak in flight while 5 hang");
    aborter.abort();
    await Promise.all(hangs);
    const s = await waitFor(
      () => upstream.stats(),
      (v) => v.cancelled === 5,
    );
    assert.equal(s.received, 56);
    assert.equal(s.answered, 51);
    assert.equal(s.cancelled, 5);
    assert.equal(s.inFlight, 0);
    assert.deepEqual(s.byStatus, { 200: 31, 500: 20 });
    assert.deepEqual(
      Object.fromEntries(
        Object.entries(s.routes).map(([k, v]) => [k, [v.received, v.answered, v.cancelled]]),
      ),
      { "/a": [30, 30, 0], "/b": [20, 20, 0], "/h": [5, 0, 5], default: [1, 1, 0] },
    );
    const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
    assert.equal(sum(s.perSecond.received), 56, "per second: received");
    assert.equal(sum(s.perSecond.answered), 51, "per second: answered");
    assert.equal(sum(s.perSecond.cancelled), 5, "per second: cancelled");
    await upstream.resetStats();
    const fresh = await upstream.stats();
    assert.equal(
      fresh.received + fresh.answered + fresh.cancelled + fresh.peakInFlight,
      0,
      "all zero",
    );
    assert.deepEqual(fresh.byStatus, {});
    await get(`${upstream.url}/a`);
    assert.equal((await upstream.stats()).received, 1, "counting again");
  });

  it("seed: the same seed gives the same faults and latencies; configure({ seed }) restarts them", async () => {
    const profile = {
      latency: { type: "lognormal", medianMs: 2, sigma: 1, maxMs: 20 },
      errorRate: 0.3,
    } as const;
    const [one, two, other] = await Promise.all([
      start({ ...profile, seed: 99 }),
      start({ ...profile, seed: 99 }),
      start({ ...profile, seed: 100 }),
    ]);
    const run = async (u: FaultUpstream): Promise<string[]> => {
      const out: string[] = [];
      for (let i = 0; i < 40; i++) {
        const a = await get(u.url);
        out.push(`${a.status}:${a.delayMs}`);
      }
      return out;
    };
    const first = await run(one);
    assert.deepEqual(await run(two), first, "same seed, same sequence");
    assert.notDeepEqual(await run(other), first, "another seed, another sequence");
    assert.equal((await one.stats()).seed, 99);
    await one.configure({ ...profile, seed: 99 });
    assert.deepEqual(await run(one), first, "configure({ seed }) restarts the draws");
  });

  it("configure(): refused over the admin port and in the caller with the option named; nothing changes", async () => {
    const upstream = await start({ latency: 1 });
    await assert.rejects(upstream.configure({ errorRate: 1.5 }), (err: Error) => {
      assert.ok(err instanceof RangeError, "a RangeError");
      assert.equal(
        err.message,
        "FaultUpstream.configure: config.errorRate must be a number from 0 to 1, got 1.5",
      );
      assert.equal((err as { code?: string }).code, "TIMEBOUND_ERR_INVALID_ARGUMENT");
      return true;
    });
    const res = await fetch(`${upstream.adminUrl}/config`, {
      method: "PUT",
      body: JSON.stringify({ routes: { "/x": { hangRate: -1 } } }),
    });
    assert.equal(res.status, 400, "the admin port refuses it");
    assert.match(
      ((await res.json()) as { error: string }).error,
      /^configure: config\.routes\["\/x"\]\.hangRate must be a number from 0 to 1, got -1$/,
    );
    assert.equal((await get(`${upstream.url}/x`)).status, 200, "the old configuration serves");
  });

  it("close(): the process is gone and admin calls reject with FaultUpstreamError; await using closes too", async () => {
    let pid: number;
    {
      await using upstream = await startFaultUpstream();
      pid = upstream.pid;
      assert.ok(isProcessRunning(pid), "running");
    }
    assert.ok(!isProcessRunning(pid), "gone at the end of the block");
    const upstream = await start();
    await upstream.close();
    assert.ok(!isProcessRunning(upstream.pid), "gone after close()");
    await upstream.close(); // idempotent
    await assert.rejects(upstream.stats(), (err: Error) => {
      assert.ok(err instanceof FaultUpstreamError, "a FaultUpstreamError");
      assert.equal(err.name, "FaultUpstreamError");
      assert.equal(err.code, "TIMEBOUND_ERR_FAULT_UPSTREAM");
      assert.equal(err.message, "FaultUpstream.stats: the upstream is closed");
      return true;
    });
  });

  it("the upstream does not outlive a test process killed with SIGKILL", async () => {
    const victim = spawn(
      process.execPath,
      ["--import", "tsx", join(import.meta.dirname, "fault-upstream-victim.ts")],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let text = "";
        victim.stdout.on("data", (chunk: Buffer) => {
          text += chunk.toString();
          if (text.includes("\n")) resolve(text.split("\n")[0]!);
        });
        victim.once("exit", () => reject(new Error("the victim exited before it reported")));
      });
      const { pid } = JSON.parse(line) as { pid: number };
      assert.ok(isProcessRunning(pid), "the upstream runs");
      victim.kill("SIGKILL");
      const until = performance.now() + 10_000;
      while (isProcessRunning(pid) && performance.now() < until) await delay(20);
      assert.ok(!isProcessRunning(pid), `upstream ${pid} is gone after its parent's SIGKILL`);
    } finally {
      victim.kill("SIGKILL");
    }
  });

  it("bad options reject (never throw) with the option named", async () => {
    const cases: [unknown, RegExp, string][] = [
      [
        { errorRate: 2 },
        /^startFaultUpstream: options\.errorRate must be a number from 0 to 1, got 2$/,
        "TIMEBOUND_ERR_INVALID_ARGUMENT",
      ],
      [
        { latncy: 5 },
        /^startFaultUpstream: unknown option options\.latncy \(known: latency, /,
        "TIMEBOUND_ERR_UNKNOWN_OPTION",
      ],
      [
        { latency: { type: "normal" } },
        /^startFaultUpstream: options\.latency\.type must be one of "fixed", "lognormal", "pareto", got "normal"$/,
        "TIMEBOUND_ERR_INVALID_ARGUMENT",
      ],
      [
        { latency: { type: "lognormal", medianMs: 10 } },
        /^startFaultUpstream: options\.latency\.sigma must be a number from 0 to 10, got undefined$/,
        "TIMEBOUND_ERR_INVALID_ARGUMENT",
      ],
      [
        { latency: { type: "pareto", minMs: 0, alpha: 1 } },
        /^startFaultUpstream: options\.latency\.minMs must be a finite number above 0, got 0$/,
        "TIMEBOUND_ERR_INVALID_ARGUMENT",
      ],
      [
        { capacity: 0 },
        /options\.capacity must be a finite number above 0, got 0$/,
        "TIMEBOUND_ERR_INVALID_ARGUMENT",
      ],
      [
        { errorStatus: 200 },
        /options\.errorStatus must be an integer from 400 to 599, got 200$/,
        "TIMEBOUND_ERR_INVALID_ARGUMENT",
      ],
      [
        { routes: { api: {} } },
        /options\.routes keys must be path prefixes starting with "\/", got "api"$/,
        "TIMEBOUND_ERR_INVALID_ARGUMENT",
      ],
      [
        { routes: { "/a": { seed: 1 } } },
        /unknown option options\.routes\["\/a"\]\.seed/,
        "TIMEBOUND_ERR_UNKNOWN_OPTION",
      ],
      [
        { outages: [{ fromMs: 5, toMs: 1, mode: "fail" }] },
        /options\.outages\[0\]\.toMs must be a number of milliseconds from 5 to 2,147,483,647, or Infinity, got 1$/,
        "TIMEBOUND_ERR_INVALID_ARGUMENT",
      ],
      [
        { outages: [{ fromMs: 0, toMs: 1, mode: "slow" }] },
        /options\.outages\[0\]\.factor is required with mode "slow"/,
        "TIMEBOUND_ERR_INVALID_ARGUMENT",
      ],
      [
        { seed: -1 },
        /options\.seed must be an integer from 0 to 4,294,967,295, got -1$/,
        "TIMEBOUND_ERR_INVALID_ARGUMENT",
      ],
      [
        "fast",
        /^startFaultUpstream: options must be an object, got "fast"$/,
        "TIMEBOUND_ERR_INVALID_ARGUMENT",
      ],
    ];
    for (const [options, message, code] of cases) {
      let promise: Promise<unknown> | undefined;
      assert.doesNotThrow(() => {
        promise = startFaultUpstream(options as Parameters<typeof startFaultUpstream>[0]);
      }, "never throws");
      await assert.rejects(promise!, (err: Error) => {
        assert.match(err.message, message);
        assert.equal((err as { code?: string }).code, code, `code for ${err.message}`);
        return true;
      });
    }
  });
});
