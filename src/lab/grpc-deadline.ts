import { startTimer } from "../core/internal.js";
import type * as Grpc from "@grpc/grpc-js";
import type * as GrpcIo from "../io/grpc/index.js";
import { type Context, ContextError, background, now, withTimeout } from "../core/index.js";
import { sleep } from "../sync/sleep.js";
import { formatCount, formatMs } from "./format.js";
import { raceTimer } from "./race-timer.js";
import { skippedResult } from "./skipped.js";
import { scaled } from "./nested-deadlines.js";
import type { LabOptions } from "./options.js";
import type { Progress, ResultRow, Scenario, ScenarioResult } from "./scenario.js";

// Client → A → B over gRPC on loopback, B doing `workMs` of work per call. The same B runs in
// every variant: its handler stops as soon as its context ends. What differs is whether anything
// ever ends that context: the caller's deadline has to reach B through A.

/** How a caller bounds its call to A. */
export type GrpcVariant =
  /** ❌ Promise.race against a timer; the call itself has no deadline and is never canceled. */
  | "race"
  /** ❌ a grpc-js deadline on the client's call only; A calls B without one. */
  | "grpc-deadline"
  /** ✅ timebound: `unary(ctx, ...)` on both hops; A's handler runs under `withContext`. */
  | "timebound";

/** What the caller saw of one call. */
export interface CallerOutcome {
  readonly id: number;
  /** Monotonic time the caller's deadline fell due. */
  readonly deadlineAt: number;
  /** Monotonic time the caller's promise settled. */
  readonly settledAt: number;
  /** What the caller got: `"DeadlineExceeded"`, `"Error: timed out after 100 ms"`, or `"ok"`. */
  readonly result: string;
}

/** What B's handler did with one call. */
export interface WorkRecord {
  readonly startedAt: number;
  endedAt?: number;
  /** True when B did all `workMs` of its work, false when its context stopped it. */
  completed?: boolean;
}

/** The two-hop setup, shared by the lab scenario and bench/io/grpc.ts. */
export interface GrpcTestbed {
  /** Makes one call through A to B that takes `workMs` at B, bounded by `deadlineMs`. */
  call(variant: GrpcVariant, deadlineMs: number, workMs: number): Promise<CallerOutcome>;
  /** Whether a quick call on the same client, made the same way, works now. */
  nextCallOk(variant: GrpcVariant): Promise<boolean>;
  /**
   * One call straight to B that completes in time, for overhead timings: `unary(ctx, ...)`, or
   * grpc-js's own callback call with a `deadline` option.
   */
  direct(timebound: boolean): Promise<void>;
  /**
   * B's record of call `id` once B's handler has ended; `undefined` if B never received the
   * call (A canceled it first) within `graceMs`, or a record without `endedAt` if B was still
   * working after `withinMs`.
   */
  work(id: number, withinMs: number, graceMs: number): Promise<WorkRecord | undefined>;
  close(): Promise<void>;
}

interface Job {
  readonly id: number;
  readonly workMs: number;
}

type Callback = (err: Grpc.ServiceError | null, reply?: Job) => void;

/** The lab's service: B's `work`, and A's `relay` (timebound) and `relayPlain` (no context). */
interface LabClient extends Grpc.Client {
  work(job: Job, options: Grpc.CallOptions, callback: Callback): Grpc.ClientUnaryCall;
  relay(job: Job, options: Grpc.CallOptions, callback: Callback): Grpc.ClientUnaryCall;
  relayPlain(job: Job, options: Grpc.CallOptions, callback: Callback): Grpc.ClientUnaryCall;
}

/** Defined in code with JSON on the wire, so the lab needs no .proto file and no proto-loader. */
function labService(): Grpc.ServiceDefinition {
  const serialize = (value: Job): Buffer => Buffer.from(JSON.stringify(value));
  const deserialize = (bytes: Buffer): Job => JSON.parse(bytes.toString("utf8")) as Job;
  const method = (name: string): Grpc.MethodDefinition<Job, Job> => ({
    path: `/timebound.lab.Work/${name}`,
    requestStream: false,
    responseStream: false,
    requestSerialize: serialize,
    requestDeserialize: deserialize,
    responseSerialize: serialize,
    responseDeserialize: deserialize,
    originalName: name,
  });
  return { work: method("Work"), relay: method("Relay"), relayPlain: method("RelayPlain") };
}

/** Why the lab cannot run gRPC here, or undefined if it can. */
async function loadGrpc(): Promise<{ grpc: typeof Grpc; io: typeof GrpcIo } | string> {
  try {
    // Loaded on demand: @grpc/grpc-js is an optional peer dependency, and `timebound lab` must
    // run without it.
    const grpc = await import("@grpc/grpc-js");
    const io = await import("../io/grpc/index.js");
    return { grpc, io };
  } catch (err) {
    return `@grpc/grpc-js could not be loaded (${(err as Error).message.split("\n")[0]})`;
  }
}

/** Starts B, then A in front of it, and a client of A; returns why not if gRPC is missing. */
export async function startGrpcTestbed(): Promise<GrpcTestbed | string> {
  const loaded = await loadGrpc();
  if (typeof loaded === "string") return loaded;
  const { grpc, io } = loaded;
  const service = labService();
  const Client = grpc.makeGenericClientConstructor(service, "Work") as unknown as new (
    address: string,
    credentials: Grpc.ChannelCredentials,
  ) => LabClient;
  const servers: Grpc.Server[] = [];
  const clients: LabClient[] = [];

  async function serve(handlers: Grpc.UntypedServiceImplementation): Promise<LabClient> {
    const server = new grpc.Server();
    server.addService(service, handlers);
    servers.push(server);
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      );
    });
    const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    clients.push(client);
    await new Promise<void>((resolve, reject) => {
      client.waitForReady(Date.now() + 5_000, (err) => (err ? reject(err) : resolve()));
    });
    return client;
  }

  const log = new Map<number, WorkRecord>();
  type WorkCall = Grpc.ServerUnaryCall<Job, Job>;
  // B: the same in every variant; its work stops when its context ends, if anything ends it.
  const b = await serve({
    work: io.withContext(async (ctx: Context, call: WorkCall) => {
      const { id, workMs } = call.request;
      const record: WorkRecord = { startedAt: now() };
      log.set(id, record);
      try {
        await sleep(ctx, workMs);
        record.completed = true;
        return { id, workMs };
      } finally {
        record.completed ??= false;
        record.endedAt = now();
      }
    }),
  });
  const a = await serve({
    relay: io.withContext((ctx: Context, call: WorkCall) => io.unary(ctx, b, "work", call.request)),
    relayPlain(call: WorkCall, callback: Grpc.sendUnaryData<Job>) {
      b.work(call.request, {}, (err, reply) => callback(err, reply));
    },
  });

  let nextId = 0;
  const invoke = (variant: GrpcVariant, job: Job, deadlineMs: number): Promise<unknown> => {
    switch (variant) {
      case "timebound": {
        const ctx = withTimeout(background(), deadlineMs, { name: "caller" });
        return io.unary(ctx, a, "relay", job).finally(() => ctx.cancel());
      }
      case "grpc-deadline":
        return callback((cb) => a.relayPlain(job, { deadline: Date.now() + deadlineMs }, cb));
      case "race":
        return raceTimer(
          callback((cb) => a.relayPlain(job, {}, cb)),
          deadlineMs,
        );
    }
  };

  return {
    async call(variant, deadlineMs, workMs) {
      const id = nextId++;
      const deadlineAt = now() + deadlineMs;
      let result = "ok";
      try {
        await invoke(variant, { id, workMs }, deadlineMs);
      } catch (err) {
        result = describeOutcome(err);
      }
      return { id, deadlineAt, settledAt: now(), result };
    },
    async nextCallOk(variant) {
      try {
        await invoke(variant, { id: nextId++, workMs: 0 }, 2_000);
        return true;
      } catch {
        return false;
      }
    },
    async direct(timebound) {
      const job = { id: nextId++, workMs: 0 };
      if (!timebound) {
        await callback((cb) => b.work(job, { deadline: Date.now() + 2_000 }, cb));
        return;
      }
      const ctx = withTimeout(background(), 2_000);
      try {
        await io.unary(ctx, b, "work", job);
      } finally {
        ctx.cancel();
      }
    },
    async work(id, withinMs, graceMs) {
      const started = now();
      for (;;) {
        const record = log.get(id);
        const waited = now() - started;
        if (record?.endedAt !== undefined || waited >= withinMs) return record;
        if (record === undefined && waited >= graceMs) return undefined;
        // Polling is enough: the record holds the times; this only decides when to look again.
        await sleep(background(), 10);
      }
    },
    async close() {
      for (const c of clients) c.close();
      await Promise.all(servers.map(shutdown));
    },
  };
}

/** A context error by its class; anything else by its class and message. */
function describeOutcome(err: unknown): string {
  if (!(err instanceof Error)) return typeof err;
  const cls = err.constructor.name;
  return err instanceof ContextError ? cls : `${cls}: ${err.message}`;
}

function callback(start: (cb: Callback) => void): Promise<Job> {
  return new Promise((resolve, reject) => {
    start((err, reply) => (err ? reject(err) : resolve(reply!)));
  });
}

function shutdown(server: Grpc.Server): Promise<void> {
  return new Promise((resolve) => {
    const force = startTimer(() => server.forceShutdown(), 1_000);
    server.tryShutdown(() => {
      clearTimeout(force);
      resolve();
    });
  });
}

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
