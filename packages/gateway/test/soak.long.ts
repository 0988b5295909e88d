// Not in the default test run (npm run soak, about 100 s). A soak: the real gateway process (the
// built package, as users run it: npm run build first) in front of the fault-injecting upstream
// misbehaving (heavy tail, errors, hangs, a recurring outage), under a steady request rate: a
// warm-up of WARMUP_SECONDS, then SECONDS judged (TIMEBOUND_SOAK_SECONDS, default 60). Checked
// from outside the process:
// - no request is answered later than the route's deadline + 20 ms (each request timed by the client);
// - RSS is flat: growthVerdict (timebound/diagnostics) over /proc/<pid>/status samples of the
//   judged part; a rise is watched for a second SECONDS before it is called a leak (the heap's
//   sawtooth between major collections can fill one window with a rising ramp). The warm-up is
//   long because V8 grows its young generation under a sustained allocation rate for the first
//   30-60 s (measured: RSS 93 -> 128 MB, then flat for good; with --max-semi-space-size=1 it is
//   flat after 20 s), which a shorter warm-up judges as a leak;
// - no leaked sockets: the process's sockets (/proc/<pid>/fd) after the load are back to what
//   they were before it, once idle keep-alive connections have timed out (2 s, the upstream's
//   idleTimeoutMs here);
// - timebound_gateway_requests_total on /metrics equals what the client sent, status by status.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { get } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { Pool } from "undici";
import { growthVerdict } from "timebound/diagnostics";
import { startFaultUpstream } from "timebound/testing";

const SECONDS = Number(process.env["TIMEBOUND_SOAK_SECONDS"] ?? 60);
const WARMUP_SECONDS = 30;
const RATE = 100; // requests per second, steady (open loop: not held back by slow answers)
const DEADLINE_MS = 250;
const LATE_SLACK_MS = 20;
/** The client gives up after this: far past the deadline, so a late answer is seen, not cut. */
const CLIENT_TIMEOUT_MS = 5_000;

const BIN = fileURLToPath(new URL("../bin/timebound-gateway.js", import.meta.url));
const BUILT = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "timebound-gateway-soak-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m === null ? 0 : Number(m[1]) * 1024;
}

function socketCount(pid: number): number {
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith("socket:")) n++;
    } catch {
      // closed while we looked
    }
  }
  return n;
}

/** GET on a connection of its own that closes after the answer (so it leaves no socket open). */
function getOnce(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false, headers: { connection: "close" } }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (c: string) => (text += c));
      res.on("end", () => resolve(text));
    }).on("error", reject);
  });
}

/** timebound_gateway_requests_total summed by status. */
function requestCounts(metrics: string): Map<string, number> {
  const counted = new Map<string, number>();
  for (const m of metrics.matchAll(/^timebound_gateway_requests_total\{([^}]*)\} (\d+)$/gm)) {
    const status = /status="(\d+)"/.exec(m[1]!)?.[1] ?? "?";
    counted.set(status, (counted.get(status) ?? 0) + Number(m[2]));
  }
  return counted;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startCli(
  file: string,
): Promise<{ child: ChildProcess; url: string; adminUrl: string }> {
  if (!existsSync(BUILT)) throw new Error("the soak runs the built gateway: npm run build first");
  const child = spawn(process.execPath, [BIN, "--config", file, "--quiet"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let err = "";
  child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
  const t0 = Date.now();
  while (!/listening on/.test(err)) {
    if (Date.now() - t0 > 30_000 || child.exitCode !== null)
      throw new Error(`gateway did not start: ${err}`);
    await sleep(20);
  }
  const m = /listening on (\S+), admin on (\S+)/.exec(err)!;
  return { child, url: m[1]!.replace(/,$/, ""), adminUrl: m[2]! };
}

describe("soak: the gateway process under load over a misbehaving upstream", () => {
  it(
    `${SECONDS} s at ${RATE} requests/s after a warm-up: answers by the deadline, flat RSS, no leaked sockets, exact counts`,
    { timeout: (WARMUP_SECONDS + 2 * SECONDS + 120) * 1000 },
    async () => {
      await using upstream = await startFaultUpstream({
        latency: { type: "lognormal", medianMs: 15, sigma: 1.2, maxMs: 5_000 },
        errorRate: 0.05,
        hangRate: 0.02,
        capacity: 40,
        // Down (hanging) for 1 s every 7 s: the breaker opens, the fallback answers, it closes.
        outages: [{ fromMs: 3_000, toMs: 4_000, everyMs: 7_000, mode: "hang" }],
        seed: 7,
      });
      const file = join(dir, "soak.yaml");
      writeFileSync(
        file,
        `listen: { host: 127.0.0.1, port: 0 }
admin: { host: 127.0.0.1, port: 0 }
shutdown: { drainMs: 500 }
upstreams: { fault: { targets: ["${upstream.url}"], connections: 64, idleTimeoutMs: 2000 } }
routes:
  - path: /items/*
    upstream: fault
    timeoutMs: ${DEADLINE_MS}
    attemptTimeoutMs: 150
    retry: { maxAttempts: 3, backoff: { initialMs: 10 }, budget: { percent: 20 } }
    circuitBreaker: { failureRateThreshold: 50, slowCallDurationMs: 100, minimumCalls: 20, openDurationMs: 500, halfOpenPermits: 5 }
    fallback: { staleMaxAgeMs: 30000, status: 200, json: { status: "queued" } }
`,
      );
      const gw = await startCli(file);
      const pid = gw.child.pid!;
      const pool = new Pool(gw.url, { connections: 128, keepAliveTimeout: 1_000 });
      try {
        const socketsBefore = socketCount(pid);
        const statuses = new Map<string, number>();
        const late: number[] = [];
        let maxLatency = 0;
        let sent = 0;
        const inflight = new Set<Promise<void>>();
        const rss: { at: number; rss: number }[] = [];
        const warmupMs = WARMUP_SECONDS * 1000;

        const one = async (i: number): Promise<void> => {
          const start = performance.now();
          let status: string;
          try {
            const res = await pool.request({
              path: `/items/${i % 50}`,
              method: "GET",
              signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS),
            });
            await res.body.dump();
            status = String(res.statusCode);
          } catch {
            // given up at CLIENT_TIMEOUT_MS: the gateway counts it as the client's close (499)
            status = "499";
          }
          const ms = performance.now() - start;
          maxLatency = Math.max(maxLatency, ms);
          if (ms > DEADLINE_MS + LATE_SLACK_MS) late.push(Math.round(ms));
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
        };

        const t0 = performance.now();
        let nextRss = t0 + warmupMs;
        /** Sends at RATE until `endAt`, sampling RSS every 250 ms past the warm-up. */
        const drive = async (endAt: number): Promise<void> => {
          while (performance.now() < endAt) {
            const due = Math.floor(((performance.now() - t0) / 1000) * RATE);
            while (sent < due) {
              const p = one(sent++);
              inflight.add(p);
              void p.finally(() => inflight.delete(p));
            }
            if (performance.now() >= nextRss) {
              rss.push({ at: performance.now(), rss: rssBytes(pid) });
              nextRss += 250;
            }
            await sleep(5);
          }
        };
        const rssVerdict = () =>
          growthVerdict(
            rss.map((s) => ({
              at: s.at,
              rss: s.rss,
              heapUsed: 0,
              handles: {},
              liveContexts: 0,
              liveOperations: 0,
            })),
          ).find((v) => v.series === "rss");
        let judgedSeconds = SECONDS;
        await drive(t0 + warmupMs + judgedSeconds * 1000);
        let verdict = rssVerdict();
        if (verdict?.verdict === "leak") {
          // A leak goes on rising. The old generation's sawtooth between major collections
          // (a period near a minute on a slow machine) can fill one window with a rising ramp,
          // then drops: a rise is watched for a second window before it is called a leak.
          judgedSeconds += SECONDS;
          await drive(t0 + warmupMs + judgedSeconds * 1000);
          verdict = rssVerdict();
        }
        await Promise.all(inflight);
        // The gateway counts a request once its answer has gone out (or its client left): a request
        // the client gave up on may still be finishing there. Read until the counts settle.
        const seen = Object.fromEntries([...statuses].sort());
        let counted = new Map<string, number>();
        let metrics = "";
        for (let i = 0; i < 50; i++) {
          metrics = await getOnce(`${gw.adminUrl}/metrics`);
          counted = requestCounts(metrics);
          if ([...counted.values()].reduce((a, b) => a + b, 0) >= sent) break;
          await sleep(100);
        }
        const total = [...counted.values()].reduce((a, b) => a + b, 0);
        const both = `/metrics ${JSON.stringify(Object.fromEntries(counted))}, client ${JSON.stringify(seen)}`;
        assert.equal(total, sent, `/metrics counted ${total}, the client sent ${sent}: ${both}`);
        assert.deepEqual(
          Object.fromEntries([...counted].sort()),
          seen,
          `counts by status: ${both}`,
        );

        // The gateway's own view (its clock, not the client's): answers out more than 20 ms late.
        const lateAtGateway = [
          ...metrics.matchAll(
            /^timebound_gateway_time_left_seconds_bucket\{le="-0.02"[^}]*\} (\d+)$/gm,
          ),
        ].reduce((n, m) => n + Number(m[1]), 0);
        assert.deepEqual(
          late.slice(0, 20),
          [],
          `${late.length} of ${sent} answers came later than ${DEADLINE_MS} + ${LATE_SLACK_MS} ms (max ${Math.round(maxLatency)} ms); ` +
            `by the gateway's clock ${lateAtGateway} went out more than 20 ms late`,
        );

        assert.ok(verdict !== undefined, "an RSS verdict");
        assert.notEqual(verdict.verdict, "leak", verdict.explanation);

        // The client's connections closed, the upstream pool's idle ones time out (idleTimeoutMs).
        await pool.close();
        let socketsAfter = socketCount(pid);
        for (let i = 0; i < 100 && socketsAfter > socketsBefore; i++) {
          await sleep(100);
          socketsAfter = socketCount(pid);
        }
        assert.ok(
          socketsAfter <= socketsBefore,
          `the gateway holds ${socketsAfter} sockets after the load, ${socketsBefore} before it`,
        );
        console.log(
          `soak: ${sent} requests in ${WARMUP_SECONDS} + ${judgedSeconds} s, max latency ${Math.round(maxLatency)} ms (deadline ${DEADLINE_MS} ms), ` +
            `statuses ${JSON.stringify(seen)}, RSS ${verdict.verdict} (${(rss[0]!.rss / 2 ** 20).toFixed(1)} -> ` +
            `${(rss[rss.length - 1]!.rss / 2 ** 20).toFixed(1)} MB, ${rss.length} samples; ${verdict.explanation}), ` +
            `sockets ${socketsBefore} before, ${socketsAfter} after`,
        );
      } finally {
        await pool.destroy().catch(() => undefined);
        gw.child.kill("SIGKILL");
      }
    },
  );
});
