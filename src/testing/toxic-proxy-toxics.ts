// The toxics of the toxic proxy: their types and checks.
import {
  checkNumber,
  checkOneOf,
  checkString,
  invalidType,
  optionsObject,
} from "../core/internal.js";

/** A direction of a connection: `"upstream"` is client → server, `"downstream"` server → client. */
export type ToxicStream = "upstream" | "downstream";

/** What every toxic has. */
export interface ToxicBase {
  /** Its name, unique in the proxy. Default `<type>_<stream>`, as Toxiproxy names them. */
  readonly name?: string;
  /** The direction(s) it acts on. Default `"downstream"` (Toxiproxy's default). */
  readonly stream?: ToxicStream | "both";
  /**
   * Share of connections it acts on, 0 to 1, drawn once per connection. Default 1 (all).
   */
  readonly toxicity?: number;
}

/**
 * A fault the toxic proxy injects into the bytes that cross it (Toxiproxy's toxics, made in
 * user space):
 * - `latency`: each chunk is held `latencyMs` ± `jitterMs` (uniform), order kept;
 * - `bandwidth`: at most `bytesPerSecond` go through (chunks are cut in pieces and paced);
 * - `blackhole`: bytes are read and dropped, the end of the stream too; the connection stays open;
 * - `reset`: the connection is reset (TCP RST on both sides: ECONNRESET) once `afterBytes` bytes
 *   went through in its direction (counted from the connection's start). With `afterBytes` 0
 *   (the default), a new connection is reset as soon as it is accepted (whatever the stream),
 *   and one open before the toxic came at its next byte;
 * - `slowClose`: the end of the stream (FIN) is passed on `delayMs` late.
 *
 * @example
 * ```ts
 * const toxics: Toxic[] = [
 *   { type: "latency", latencyMs: 50, jitterMs: 10, stream: "both" },
 *   { type: "bandwidth", bytesPerSecond: 64 * 1024 },
 *   { type: "reset", afterBytes: 1_000, stream: "downstream", toxicity: 0.1, name: "flaky" },
 * ];
 * ```
 */
export type Toxic =
  | (ToxicBase & {
      /** Holds each chunk before passing it on. */
      readonly type: "latency";
      /** How long each chunk is held, in ms. */
      readonly latencyMs: number;
      /** Up to this much more or less, in ms, drawn uniformly per chunk. Default 0. */
      readonly jitterMs?: number;
    })
  | (ToxicBase & {
      /** Limits the throughput. */
      readonly type: "bandwidth";
      /** At most this many bytes per second go through. */
      readonly bytesPerSecond: number;
    })
  | (ToxicBase & {
      /** Drops every byte, and the end of the stream; the connection stays open. */
      readonly type: "blackhole";
    })
  | (ToxicBase & {
      /** Resets the connection (TCP RST: ECONNRESET). */
      readonly type: "reset";
      /** Bytes let through in its direction before the reset. Default 0 (reset at once). */
      readonly afterBytes?: number;
    })
  | (ToxicBase & {
      /** Passes the end of the stream (FIN) on late. */
      readonly type: "slowClose";
      /** How late the FIN is passed on, in ms. */
      readonly delayMs: number;
    });

/** A toxic as the proxy holds it: every field present. @internal */
export interface CheckedToxic {
  readonly name: string;
  readonly type: Toxic["type"];
  readonly stream: ToxicStream | "both";
  readonly toxicity: number;
  readonly latencyMs: number;
  readonly jitterMs: number;
  readonly bytesPerSecond: number;
  readonly afterBytes: number;
  readonly delayMs: number;
}

const TYPES = ["latency", "bandwidth", "blackhole", "reset", "slowClose"] as const;
const OWN_KEYS: Record<Toxic["type"], readonly string[]> = {
  latency: ["latencyMs", "jitterMs"],
  bandwidth: ["bytesPerSecond"],
  blackhole: [],
  reset: ["afterBytes"],
  slowClose: ["delayMs"],
};
const MS = { min: 0, max: 2 ** 31 - 1 };

/** Checks a toxic for `fn` (`what` names it in messages). @internal */
export function checkToxic(fn: string, value: unknown, what: string): CheckedToxic {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalidType(
      `${fn}: ${what} must be a toxic object ({ type: ${TYPES.map((t) => JSON.stringify(t)).join(" | ")}, ... }), got ${typeof value}`,
    );
  }
  const type = checkOneOf((value as { type?: unknown }).type, fn, `${what}.type`, TYPES);
  const t = optionsObject(
    value as Record<string, unknown>,
    fn,
    ["type", "name", "stream", "toxicity", ...OWN_KEYS[type]],
    what,
  );
  const stream =
    t.stream === undefined
      ? "downstream"
      : checkOneOf(t.stream, fn, `${what}.stream`, ["upstream", "downstream", "both"] as const);
  const num = (
    key: string,
    fallback: number | undefined,
    range: { min: number; max: number; integer?: boolean },
    unit: string,
  ): number => {
    if (t[key] === undefined && fallback !== undefined) return fallback;
    return checkNumber(t[key], fn, `${what}.${key}`, range, unit);
  };
  const bytesPerSecond =
    type === "bandwidth"
      ? num("bytesPerSecond", undefined, { min: 1, max: 2 ** 40 }, "bytes per second")
      : 0;
  return {
    name: t.name === undefined ? `${type}_${stream}` : checkString(t.name, fn, `${what}.name`),
    type,
    stream,
    toxicity: num("toxicity", 1, { min: 0, max: 1 }, ""),
    latencyMs: type === "latency" ? num("latencyMs", undefined, MS, "milliseconds") : 0,
    jitterMs: type === "latency" ? num("jitterMs", 0, MS, "milliseconds") : 0,
    bytesPerSecond,
    afterBytes:
      type === "reset"
        ? num("afterBytes", 0, { min: 0, max: Number.MAX_SAFE_INTEGER, integer: true }, "bytes")
        : 0,
    delayMs: type === "slowClose" ? num("delayMs", undefined, MS, "milliseconds") : 0,
  };
}

/** Whether toxic `t` acts on direction `stream`. @internal */
export function actsOn(t: CheckedToxic, stream: ToxicStream): boolean {
  return t.stream === "both" || t.stream === stream;
}

/** The public shape of a checked toxic (what `toxics()` lists). @internal */
export function describeToxic(t: CheckedToxic): Toxic {
  const base = { name: t.name, stream: t.stream, toxicity: t.toxicity };
  switch (t.type) {
    case "latency":
      return { ...base, type: t.type, latencyMs: t.latencyMs, jitterMs: t.jitterMs };
    case "bandwidth":
      return { ...base, type: t.type, bytesPerSecond: t.bytesPerSecond };
    case "blackhole":
      return { ...base, type: t.type };
    case "reset":
      return { ...base, type: t.type, afterBytes: t.afterBytes };
    case "slowClose":
      return { ...base, type: t.type, delayMs: t.delayMs };
  }
}
