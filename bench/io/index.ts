// The io suite: for each adapter, how long after the deadline the caller was released and how
// long the other side kept working, p50/p99 over many runs, beside the usual way; and the cost
// of the adapter on calls that finish in time. Starts its own PostgreSQL and Redis.
import { startPostgres, startRedis } from "../../src/testing/index.js";
import { type Row, envNumber, formatRow, header, machine, writeJson } from "../harness.js";
import { run as grpc } from "./grpc.js";
import { run as http } from "./http.js";
import { type IoBenchEnv, type LatencyRow, formatLatency } from "./latency.js";
import { run as pg } from "./pg.js";
import { run as processes } from "./process.js";
import { run as redis } from "./redis.js";

type AdapterBench = (env: IoBenchEnv) => Promise<{ latency: LatencyRow[]; overhead?: Row[] }>;

const adapters: Record<string, AdapterBench> = { http, pg, redis, grpc, process: processes };

export async function run(): Promise<void> {
  const started = performance.now();
  const m = machine();
  const runs = envNumber("TIMEBOUND_BENCH_RUNS", 200);
  console.log(
    `io benchmarks: node ${m.node}, ${m.cpu} x${m.cores}, ${m.date}; ${runs} runs each\n`,
  );
  const [pgServer, redisServer] = await Promise.all([startPostgres(), startRedis()]);
  const env: IoBenchEnv = { pgUrl: pgServer.url, redisUrl: redisServer.url, runs };
  const latency: LatencyRow[] = [];
  const overhead: Row[] = [];
  try {
    for (const [name, bench] of Object.entries(adapters)) {
      console.log(`-- ${name}`);
      const result = await bench(env);
      latency.push(...result.latency);
      overhead.push(...(result.overhead ?? []));
    }
  } finally {
    await Promise.all([pgServer.stop(), redisServer.stop()]);
  }
  console.log("\ncancellation (deadline → caller released; deadline → work stopped), p50 / p99");
  for (const r of latency) console.log(formatLatency(r));
  if (overhead.length > 0) {
    console.log(`\n${header()}`);
    for (const r of overhead) console.log(formatRow(r));
  }
  const file = writeJson("io", {
    suite: "io",
    machine: m,
    durationMs: Math.round(performance.now() - started),
    latency,
    overhead,
  });
  console.log(`\nwrote ${file}`);
}
