import {
  type CallerOutcome,
  type GrpcTestbed,
  type GrpcVariant,
  startGrpcTestbed,
} from "../testing/grpc-testbed.js";
import { formatCount, formatMs } from "./format.js";
import { skippedResult } from "./skipped.js";
import { scaled } from "./nested-deadlines.js";
import type { LabOptions } from "./options.js";
import type { Progress, ResultRow, Scenario, ScenarioResult } from "./scenario.js";

// Client → A → B over gRPC on loopback (the testbed in src/testing/grpc-testbed.ts), B doing
// `workMs` of work per call; wrong: a Promise.race timeout, right: timebound on both hops.

/** Calls each lab run makes per variant. */
const RUNS = 3;
/** The caller's deadline and B's work per call, before scaling (x0.25 by default). */
const DEADLINE_MS = 400;
const WORK_MS = 8_000;

interface Measured {
  readonly callerWaitedMs: number;
  readonly callerResult: string;
  /** Median time B kept working after the deadline; null if B was still working at the end. */
  readonly bAfterMs: number | null;
  readonly bCompleted: number;
  readonly nextOk: number;
}

async function measure(
  tb: GrpcTestbed,
  variant: GrpcVariant,
  deadlineMs: number,
  workMs: number,
  progress: Progress,
): Promise<Measured> {
  const calls: CallerOutcome[] = [];
  let nextOk = 0;
  for (let i = 0; i < RUNS; i++) {
    calls.push(await tb.call(variant, deadlineMs, workMs));
    if (await tb.nextCallOk(variant)) nextOk++;
    progress.tick(`grpc-deadline: ${variant}: ${i + 1} / ${RUNS} calls`);
  }
  // B's log: in the wrong variant B's handlers run on after their callers gave up; wait for them.
  const records = await Promise.all(calls.map((c) => tb.work(c.id, workMs + 2_000, 300)));
  const after = calls.map((c, i) => {
    const r = records[i];
    if (r === undefined) return 0; // A canceled the call before it reached B
    return r.endedAt === undefined ? Infinity : Math.max(0, r.endedAt - c.deadlineAt);
  });
  const bAfter = median(after);
  return {
    callerWaitedMs: median(calls.map((c) => c.settledAt - (c.deadlineAt - deadlineMs))),
    callerResult: calls[0]?.result ?? "none",
    bAfterMs: bAfter === Infinity ? null : bAfter,
    bCompleted: records.filter((r) => r?.completed === true).length,
    nextOk,
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function rows(wrong: Measured, right: Measured): ResultRow[] {
  const ms = (v: number | null): { value: number | null; text: string } =>
    v === null ? { value: null, text: "still working" } : { value: v, text: formatMs(v) };
  const ofRuns = (n: number): { value: number; text: string } => ({
    value: n,
    text: `${formatCount(n)} of ${RUNS}`,
  });
  return [
    {
      key: "caller.waited",
      measure: `how long the caller waited (median of ${RUNS})`,
      unit: "ms",
      wrong: ms(wrong.callerWaitedMs),
      right: ms(right.callerWaitedMs),
    },
    {
      key: "caller.error",
      measure: "what the caller got",
      wrong: { value: wrong.callerResult, text: wrong.callerResult },
      right: { value: right.callerResult, text: right.callerResult },
    },
    {
      key: "b.after",
      measure: "how long B kept working after the deadline (median)",
      unit: "ms",
      wrong: ms(wrong.bAfterMs),
      right: ms(right.bAfterMs),
    },
    {
      key: "b.completed",
      measure: "B's handlers that ran to completion after the caller gave up",
      unit: "count",
      wrong: ofRuns(wrong.bCompleted),
      right: ofRuns(right.bCompleted),
    },
    {
      key: "next",
      measure: "next call on the same client worked",
      unit: "count",
      wrong: ofRuns(wrong.nextOk),
      right: ofRuns(right.nextOk),
    },
  ];
}

function findings(wrong: Measured, right: Measured, workMs: number): string[] {
  const out: string[] = [];
  if (wrong.bCompleted > 0) {
    out.push(
      `With Promise.race the caller gave up after ${formatMs(wrong.callerWaitedMs)}, but B's ` +
        `log shows ${wrong.bCompleted} of ${RUNS} handlers ran their full ${formatMs(workMs)} ` +
        `of work, ${formatMs(wrong.bAfterMs ?? workMs)} past the deadline: the call had no ` +
        `deadline and was never canceled, so nothing told A or B.`,
    );
  }
  if (right.bAfterMs !== null && right.bCompleted === 0) {
    out.push(
      `With timebound the deadline crossed both hops (grpc-timeout, then A's handler context ` +
        `into its call to B), and B's context ended with it: B stopped ` +
        `${formatMs(right.bAfterMs)} after the deadline.`,
    );
  }
  out.push(
    `The next call on the same client worked ${wrong.nextOk} / ${right.nextOk} of ${RUNS} ` +
      `times: gRPC multiplexes calls on one connection, so an abandoned call blocks nothing; ` +
      `it only keeps A and B busy.`,
  );
  return out;
}

/** Seed section 2.3 and chapter 1: the deadline must reach the I/O, across every hop. */
export const grpcDeadline: Scenario = {
  id: "grpc-deadline",
  title: "a gRPC call whose caller gave up: does the server stop?",
  goArticle:
    "section 2.3 asks, for an HTTP client, a database driver and a channel, whether a timeout " +
    "interrupts the I/O underneath and whether a blocked call can be canceled; chapter 1 " +
    "lists grpc.Invoke(ctx, ...) among the calls that must take the context",
  wrong: "Promise.race timeout, no grpc deadline",
  right: "timebound unary(ctx) on each hop",

  async run(options: LabOptions, progress: Progress): Promise<ScenarioResult> {
    const deadlineMs = scaled(DEADLINE_MS, options.scale);
    const workMs = scaled(WORK_MS, options.scale);
    progress.step("grpc-deadline: starting servers A and B on loopback");
    const tb = await startGrpcTestbed();
    if (typeof tb === "string") return skippedResult("gRPC calls", tb);
    try {
      progress.step(`grpc-deadline: wrong, ${RUNS} calls with a ${formatMs(deadlineMs)} timeout`);
      const wrong = await measure(tb, "race", deadlineMs, workMs, progress);
      progress.step(`grpc-deadline: right, ${RUNS} calls with a ${formatMs(deadlineMs)} deadline`);
      const right = await measure(tb, "timebound", deadlineMs, workMs, progress);
      return {
        setup:
          `client → A → B, grpc-js on loopback; ${RUNS} calls per variant, each with a ` +
          `${formatMs(deadlineMs)} deadline for ${formatMs(workMs)} of work at B ` +
          `(${DEADLINE_MS} ms / ${formatCount(WORK_MS)} ms at x${options.scale}); the same B ` +
          `in both: its handler stops when its context ends`,
        rows: rows(wrong, right),
        findings: findings(wrong, right, workMs),
      };
    } finally {
      await tb.close();
    }
  },
};
