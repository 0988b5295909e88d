/**
 * CPU and heap profiles of the running process in pprof format, as Go's `/debug/pprof/profile`
 * and `/debug/pprof/heap` serve them: V8's sampling profilers, driven through an in-process
 * inspector session for the time asked, their result converted to profile.proto and gzipped.
 */
import * as inspector from "node:inspector";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { gzip } from "node:zlib";
import { Label, Profile, Sample, StringTable, ValueType } from "pprof-format";
import type { Frame } from "./model.js";
import { LocationTable } from "./pprof.js";
import { originalTimers } from "./timers.js";

const gzipAsync = promisify(gzip);

/** CPU sampling interval, µs: 1 kHz, fine enough for a request's hot path. */
const CPU_INTERVAL_US = 1_000;
/** Heap sampling: one allocation sampled per this many bytes on average (V8's default). */
const HEAP_INTERVAL_BYTES = 32_768;

type CpuProfile = inspector.Profiler.Profile;
type CallFrame = inspector.Runtime.CallFrame;

/** V8's sampling heap profile as the protocol sends it (Node's typings lack `id` and `samples`). */
interface HeapNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly selfSize: number;
  readonly children: readonly HeapNode[];
}
interface HeapProfile {
  readonly head: HeapNode;
  readonly samples: readonly { readonly size: number; readonly nodeId: number }[];
}

/** Which profiler is running: one of each at a time, as Go refuses a second CPU profile. */
const running = new Set<"cpu" | "heap">();

/** @internal A profile asked for while one of the same kind is being taken. */
export class ProfileBusyError extends Error {
  constructor(kind: string) {
    super(`a ${kind} profile is already being taken; try again when it is done`);
    this.name = "ProfileBusyError";
  }
}

function toFrame(c: CallFrame): Frame {
  let file = c.url;
  if (file.startsWith("file://")) {
    try {
      file = fileURLToPath(file);
    } catch {
      // keep the URL as it is
    }
  }
  // V8's call frames count lines and columns from 0; stacks (and pprof) from 1.
  return {
    functionName: c.functionName,
    file,
    line: file === "" ? 0 : c.lineNumber + 1,
    column: file === "" ? 0 : c.columnNumber + 1,
  };
}

/** Node id → its stack, innermost first, V8's "(root)" left out. */
function stacksOf<N extends { id: number; callFrame: CallFrame }>(
  root: N,
  children: (node: N) => readonly N[],
): Map<number, Frame[]> {
  const stacks = new Map<number, Frame[]>();
  const todo: [N, Frame[]][] = [[root, []]];
  while (todo.length > 0) {
    const [node, above] = todo.pop()!;
    const stack = node === root ? above : [toFrame(node.callFrame), ...above];
    stacks.set(node.id, stack);
    for (const child of children(node)) todo.push([child, stack]);
  }
  return stacks;
}

function valueTypes(strings: StringTable, types: readonly [string, string][]): ValueType[] {
  return types.map(
    ([type, unit]) => new ValueType({ type: strings.dedup(type), unit: strings.dedup(unit) }),
  );
}

/**
 * @internal A V8 CPU profile as pprof: one sample a stack that was seen, values `[samples,
 * cpu ns]`, cpu the default, as `go tool pprof` reads Go's CPU profiles.
 */
export function cpuProfileToPprof(profile: CpuProfile, intervalUs = CPU_INTERVAL_US): Profile {
  const strings = new StringTable();
  const locations = new LocationTable(strings);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const root = profile.nodes[0];
  const stacks =
    root === undefined
      ? new Map<number, Frame[]>()
      : stacksOf(root, (n) => (n.children ?? []).flatMap((id) => byId.get(id) ?? []));
  // Time per stack from the samples and their deltas (a sample's time runs to the next one).
  const hits = new Map<number, { count: number; ns: number }>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  samples.forEach((id, i) => {
    const next = deltas[i + 1];
    const ns = (next === undefined || next <= 0 ? intervalUs : next) * 1_000;
    const h = hits.get(id);
    if (h === undefined) hits.set(id, { count: 1, ns });
    else {
      h.count++;
      h.ns += ns;
    }
  });
  const sampleType = valueTypes(strings, [
    ["samples", "count"],
    ["cpu", "nanoseconds"],
  ]);
  const sample = [...hits].map(
    ([id, h]) =>
      new Sample({
        locationId: locations.frames(stacks.get(id) ?? []),
        value: [h.count, Math.round(h.ns)],
      }),
  );
  return new Profile({
    sampleType,
    sample,
    location: locations.locations,
    function: locations.functions,
    stringTable: strings,
    timeNanos:
      BigInt(Date.now() - Math.round((profile.endTime - profile.startTime) / 1_000)) * 1_000_000n,
    durationNanos: Math.max(0, Math.round((profile.endTime - profile.startTime) * 1_000)),
    periodType: sampleType[1],
    period: intervalUs * 1_000,
    defaultSampleType: sampleType[1]?.type,
  });
}

/**
 * @internal A V8 sampling heap profile as pprof, Go's heap profile's `inuse_objects` and
 * `inuse_space`: the sampled allocations still live, by allocation stack; space the default.
 */
export function heapProfileToPprof(
  profile: HeapProfile,
  intervalBytes = HEAP_INTERVAL_BYTES,
): Profile {
  const strings = new StringTable();
  const locations = new LocationTable(strings);
  const stacks = stacksOf<HeapNode>(profile.head, (n) => n.children);
  const live = new Map<number, { count: number; bytes: number }>();
  for (const s of profile.samples) {
    const entry = live.get(s.nodeId);
    if (entry === undefined) live.set(s.nodeId, { count: 1, bytes: s.size });
    else {
      entry.count++;
      entry.bytes += s.size;
    }
  }
  const sampleType = valueTypes(strings, [
    ["inuse_objects", "count"],
    ["inuse_space", "bytes"],
  ]);
  const bytesKey = strings.dedup("bytes");
  const sample = [...live].map(
    ([id, v]) =>
      new Sample({
        locationId: locations.frames(stacks.get(id) ?? []),
        value: [v.count, v.bytes],
        label: [new Label({ key: bytesKey, num: Math.round(v.bytes / v.count) })],
      }),
  );
  return new Profile({
    sampleType,
    sample,
    location: locations.locations,
    function: locations.functions,
    stringTable: strings,
    timeNanos: BigInt(Date.now()) * 1_000_000n,
    periodType: sampleType[1],
    period: intervalBytes,
    defaultSampleType: sampleType[1]?.type,
  });
}

/** Posts to an in-process session, which answers synchronously; throws what it answers. */
function post<T>(session: inspector.Session, method: string, params?: object): T {
  let out: { err: Error | null; result: unknown } | undefined;
  session.post(method, params ?? {}, (err, result) => (out = { err, result }));
  if (out === undefined) throw new Error(`inspector: ${method} did not answer`);
  if (out.err !== null) throw out.err;
  return out.result as T;
}

/** Waits `seconds`, or until `signal` aborts (the client went away): resolves either way. */
function wait(seconds: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = originalTimers.setTimeout(done, seconds * 1_000);
    function done(): void {
      originalTimers.clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/**
 * Runs a profiler for `seconds` in an in-process inspector session: `begin` starts it, `end`
 * stops it and returns its profile, which `encode` turns into pprof. One of each kind at a time.
 */
async function capture<P>(
  kind: "cpu" | "heap",
  seconds: number,
  signal: AbortSignal | undefined,
  begin: (session: inspector.Session) => void,
  end: (session: inspector.Session) => P,
  encode: (profile: P) => Profile,
): Promise<Buffer> {
  if (running.has(kind)) throw new ProfileBusyError(kind === "cpu" ? "CPU" : "heap");
  running.add(kind);
  const session = new inspector.Session();
  try {
    session.connect();
    begin(session);
    let profile: P;
    try {
      await wait(seconds, signal);
    } finally {
      profile = end(session); // stopped however the wait ended
    }
    signal?.throwIfAborted();
    return await gzipAsync(await encode(profile).encodeAsync());
  } finally {
    session.disconnect();
    running.delete(kind);
  }
}

/**
 * A CPU profile of the next `seconds`, gzipped pprof (`go tool pprof -top cpu.pb.gz`).
 * Rejects with a ProfileBusyError while another CPU profile is being taken, and with the
 * signal's reason when `signal` aborts first.
 *
 * @example
 * ```ts
 * await writeFile("cpu.pb.gz", await cpuProfile(10));
 * ```
 */
export function cpuProfile(seconds: number, signal?: AbortSignal): Promise<Buffer> {
  return capture(
    "cpu",
    seconds,
    signal,
    (session) => {
      post(session, "Profiler.enable");
      post(session, "Profiler.setSamplingInterval", { interval: CPU_INTERVAL_US });
      post(session, "Profiler.start");
    },
    (session) => post<{ profile: CpuProfile }>(session, "Profiler.stop").profile,
    (profile) => cpuProfileToPprof(profile),
  );
}

/**
 * The allocations of the next `seconds` still live at their end, sampled (one per 32 KiB
 * allocated on average), by allocation stack, gzipped pprof (`go tool pprof -top heap.pb.gz`).
 *
 * @example
 * ```ts
 * await writeFile("heap.pb.gz", await heapProfile(10));
 * ```
 */
export function heapProfile(seconds: number, signal?: AbortSignal): Promise<Buffer> {
  return capture(
    "heap",
    seconds,
    signal,
    (session) => {
      post(session, "HeapProfiler.enable");
      post(session, "HeapProfiler.startSampling", { samplingInterval: HEAP_INTERVAL_BYTES });
    },
    (session) => {
      const { profile } = post<{ profile: HeapProfile }>(
        session,
        "HeapProfiler.getSamplingProfile",
      );
      post(session, "HeapProfiler.stopSampling");
      return profile;
    },
    (profile) => heapProfileToPprof(profile),
  );
}
