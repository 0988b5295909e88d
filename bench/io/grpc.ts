// timebound/grpc under a deadline, client → A → B on loopback with B doing 500 ms of work per
// call: how soon the caller is released after its 50 ms deadline and how long B keeps working
// after it, over many runs, beside the usual ways: a Promise.race timeout around a call with no
// deadline, and a grpc-js deadline on the client's call that A does not pass on to B.
import { now } from "../../src/index.js";
import {
  type GrpcTestbed,
  type GrpcVariant,
  startGrpcTestbed,
} from "../../src/testing/grpc-testbed.js";
import { type Row, row } from "../harness.js";
import { type CancelSample, type IoBenchEnv, type LatencyRow, summarize } from "./latency.js";

const ADAPTER = "grpc";
const DEADLINE_MS = 50;
/** B's work per call: long enough that a B nobody stops is plainly still working. */
const WORK_MS = 500;
/** How long to wait for B to finish a call before calling it "never stopped". */
const WATCH_MS = WORK_MS + 2_000;
/** How long to wait for a call to reach B before deciding it never will (A canceled it). */
const GRACE_MS = 300;
/** In-time calls timed per side for the overhead row. */
const OVERHEAD_CALLS = 200;

const VARIANTS: readonly (readonly [GrpcVariant, string])[] = [
  ["timebound", "timebound unary(ctx) on each hop"],
  ["race", "Promise.race timeout, no grpc deadline"],
  ["grpc-deadline", "grpc deadline, not passed on to B"],
];

export async function run(env: IoBenchEnv): Promise<{ latency: LatencyRow[]; overhead?: Row[] }> {
  const tb = await startGrpcTestbed();
  if (typeof tb === "string") {
    console.log(`${ADAPTER}: skipped (${tb})`);
    return { latency: [] };
  }
  try {
    const samples = await measure(tb, env.runs);
    return {
      latency: VARIANTS.map(([variant, label]) => summarize(ADAPTER, label, samples.get(variant)!)),
      overhead: [await overhead(tb, Math.min(env.runs, OVERHEAD_CALLS))],
    };
  } finally {
    await tb.close();
  }
}

/** Runs the variants in turn, one call each per round, so drift over time hits all alike. */
async function measure(tb: GrpcTestbed, runs: number): Promise<Map<GrpcVariant, CancelSample[]>> {
  const calls = VARIANTS.map(
    () => [] as { id: number; deadlineAt: number; callerMs: number; nextCallOk: boolean }[],
  );
  for (let i = 0; i < runs; i++) {
    for (const [k, [variant]] of VARIANTS.entries()) {
      const c = await tb.call(variant, DEADLINE_MS, WORK_MS);
      const nextCallOk = await tb.nextCallOk(variant);
      calls[k]!.push({
        id: c.id,
        deadlineAt: c.deadlineAt,
        callerMs: c.settledAt - c.deadlineAt,
        nextCallOk,
      });
    }
  }
  const out = new Map<GrpcVariant, CancelSample[]>();
  for (const [k, [variant]] of VARIANTS.entries()) {
    // B's log says when each handler ended: at the deadline, or when its work was done.
    const samples = await Promise.all(
      calls[k]!.map(async (c): Promise<CancelSample> => {
        const record = await tb.work(c.id, WATCH_MS, GRACE_MS);
        const workMs =
          record === undefined
            ? 0 // A canceled the call before it reached B
            : record.endedAt === undefined
              ? null
              : Math.max(0, record.endedAt - c.deadlineAt);
        return { callerMs: c.callerMs, workMs, nextCallOk: c.nextCallOk };
      }),
    );
    out.set(variant, samples);
  }
  return out;
}

/** Calls per second straight to B, in time: timebound's unary(ctx) against grpc-js's own call. */
async function overhead(tb: GrpcTestbed, calls: number): Promise<Row> {
  let oursMs = 0;
  let anchorMs = 0;
  for (let i = 0; i < calls; i++) {
    let t = now();
    await tb.direct(true);
    oursMs += now() - t;
    t = now();
    await tb.direct(false);
    anchorMs += now() - t;
  }
  return row(
    `${ADAPTER}: unary(ctx, client, "work")`,
    "client.work(req, { deadline }, cb)",
    (calls * 1000) / oursMs,
    (calls * 1000) / anchorMs,
  );
}
