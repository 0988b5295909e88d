// The two-hop gRPC testbed the lab's grpc-deadline scenario and bench/io/grpc.ts share: client →
// A → B over gRPC on loopback, B doing `workMs` of work per call. The same B runs in every
// variant: its handler stops as soon as its context ends. What differs is whether anything ever
// ends that context: the caller's deadline has to reach B through A.
import type * as Grpc from "@grpc/grpc-js";
import { type Context, ContextError, background, now, withTimeout } from "../core/index.js";
import { startTimer } from "../core/internal.js";
import type * as GrpcIo from "../io/grpc/index.js";
import { sleep } from "../sync/sleep.js";
import { raceTimer } from "./race-timer.js";

/**
 * How a caller bounds its call to A.
 *
 * @internal
 */
export type GrpcVariant =
  /** ❌ Promise.race against a timer; the call itself has no deadline and is never canceled. */
  | "race"
  /** ❌ a grpc-js deadline on the client's call only; A calls B without one. */
  | "grpc-deadline"
  /** ✅ timebound: `unary(ctx, ...)` on both hops; A's handler runs under `withContext`. */
  | "timebound";

/**
 * What the caller saw of one call.
 *
 * @internal
 */
export interface CallerOutcome {
  readonly id: number;
  /** Monotonic time the caller's deadline fell due. */
  readonly deadlineAt: number;
  /** Monotonic time the caller's promise settled. */
  readonly settledAt: number;
  /** What the caller got: `"DeadlineExceeded"`, `"Error: timed out after 100 ms"`, or `"ok"`. */
  readonly result: string;
}

/**
 * What B's handler did with one call.
 *
 * @internal
 */
export interface WorkRecord {
  readonly startedAt: number;
  endedAt?: number;
  /** True when B did all `workMs` of its work, false when its context stopped it. */
  completed?: boolean;
}

/**
 * The two-hop setup, shared by the lab scenario and bench/io/grpc.ts.
 *
 * @internal
 */
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

/**
 * Starts B, then A in front of it, and a client of A; returns why not if gRPC is missing.
 *
 * @internal
 * @example
 * ```ts
 * const tb = await startGrpcTestbed();
 * if (typeof tb === "string") throw new Error(tb);
 * try {
 *   const outcome = await tb.call("timebound", 100, 1_000);
 *   console.log(outcome.result); // "DeadlineExceeded"
 * } finally {
 *   await tb.close();
 * }
 * ```
 *
 * @internal
 */
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
