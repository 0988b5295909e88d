import * as v8 from "node:v8";
import * as vm from "node:vm";

type Collect = () => void;

let cached: Collect | null | undefined;

/**
 * @internal A way to force a full garbage collection, or null if this runtime offers none. Uses
 * `global.gc` when the process runs with `--expose-gc`; otherwise turns the flag on for a moment
 * and takes `gc` from a fresh V8 context (as jest's leak detector does), which spares the CLI a
 * re-exec of itself.
 */
export function garbageCollector(): Collect | null {
  if (cached !== undefined) return cached;
  const exposed = (globalThis as { gc?: unknown }).gc;
  if (typeof exposed === "function") return (cached = exposed as Collect);
  try {
    v8.setFlagsFromString("--expose-gc");
    const gc: unknown = vm.runInNewContext("gc");
    v8.setFlagsFromString("--no-expose-gc"); // only our new context got it; leave the flag as found
    cached = typeof gc === "function" ? (gc as Collect) : null;
  } catch {
    cached = null;
  }
  return cached;
}

/**
 * @internal Bytes of live JS heap, measured after full collections when they are available (a few
 * in a row: finalizers and weak callbacks can free more on the next pass). Without a collector the
 * number includes garbage; {@link garbageCollector} says which.
 */
export function liveHeapBytes(): number {
  const gc = garbageCollector();
  if (gc !== null) for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}
