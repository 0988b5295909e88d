// An aggregation route: one request fans out to every part under the route's one deadline with
// timebound/fanout's batch (required and optional parts, a budget per part from its upstream's
// latency, drift compensation), and the answers become one JSON document:
//
//   { "parts": { "<name>": <value> | null, ... },
//     "missing": [{ "part": "<name>", "reason": "timed-out", "message": "...", "status"?: 503 }] }
//
// A required part missing fails the whole request instead (502, or 504 when it ran out of time).
import type { HeaderList } from "../proxy/headers.js";
import { type Context, isDeadlineExceeded } from "timebound";
import {
  BatchFailedError,
  type CallSpec,
  type LatencyTracker,
  type MissingPart,
  batch,
} from "timebound/fanout";
import type { AggregatePartConfig } from "../config/types.js";
import type { BufferedAnswer } from "../upstream/answers.js";
import type { Cluster } from "../upstream/cluster.js";
import { PartBodyError, PartStatusError, fetchPart } from "./part.js";

/** Why a part is missing from the document. */
export type MissingReason =
  "timed-out" | "upstream-status" | "upstream-failed" | "invalid-body" | "canceled" | "not-started";

/** One missing part, as the document names it. */
export interface MissingEntry {
  readonly part: string;
  readonly reason: MissingReason;
  readonly message: string;
  /** The upstream's status, for `upstream-status`. */
  readonly status?: number;
  readonly required: boolean;
}

/**
 * A required part is missing: the request fails with `status` (504 when the part ran out of
 * time, else 502); `missing` names every part without a value.
 */
export class AggregateFailedError extends Error {
  constructor(
    message: string,
    readonly status: 502 | 504,
    readonly missing: readonly MissingEntry[],
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
Object.defineProperty(AggregateFailedError.prototype, "name", { value: "AggregateFailedError" });

/** What an aggregation needs from the request. */
export interface AggregateRequest {
  readonly route: string;
  readonly parts: readonly AggregatePartConfig[];
  readonly clusters: ReadonlyMap<string, Cluster>;
  /** The route's path parameters: `:name` in a part's path is replaced by its value. */
  readonly params: Readonly<Record<string, string | undefined>>;
  /** The client's headers, as sent upstream (see `upstreamRequestHeaders`). */
  readonly headers: Readonly<HeaderList>;
  readonly upstreamHost: boolean;
  readonly maxBytes: number;
  readonly tracker: LatencyTracker;
  /** Told about every missing part (metrics). */
  readonly onMissing?: (entry: MissingEntry) => void;
}

/** Runs the aggregation under `ctx`; resolves with the JSON answer, rejects as the doc says. */
export async function aggregate(ctx: Context, request: AggregateRequest): Promise<BufferedAnswer> {
  const calls: Record<string, CallSpec<unknown>> = {};
  // Parts that answered, for when the route's deadline ends the batch before it decides.
  const answered = new Set<string>();
  for (const p of request.parts) {
    const cluster = request.clusters.get(p.upstream)!;
    calls[p.name] = {
      run: async (partCtx: Context) => {
        const value = await fetchPart(partCtx, {
          name: p.name,
          cluster,
          path: fillParams(p.path, request.params),
          headers: request.headers,
          upstreamHost: request.upstreamHost,
          maxBytes: request.maxBytes,
        });
        answered.add(p.name);
        return value;
      },
      optional: !p.required,
      weight: p.weight,
      dependency: p.upstream,
    };
  }
  const required = new Set(request.parts.filter((p) => p.required).map((p) => p.name));
  let result;
  try {
    result = await batch(ctx, calls, { tracker: request.tracker, name: request.route });
  } catch (err) {
    let missing: MissingEntry[];
    if (err instanceof BatchFailedError) missing = err.missing.map((m) => entryOf(m, required));
    else if (isDeadlineExceeded(err)) {
      // The route's deadline ended the batch before its own budgets did.
      missing = request.parts
        .filter((p) => !answered.has(p.name))
        .map((p) => ({
          part: p.name,
          reason: "timed-out",
          message: "the route's deadline passed",
          required: p.required,
        }));
    } else throw err; // the client left: nobody to answer
    for (const m of missing) request.onMissing?.(m);
    const deciding = missing.find((m) => m.required && m.reason !== "canceled") ?? missing[0];
    const status = deciding?.reason === "timed-out" || isDeadlineExceeded(ctx.err) ? 504 : 502;
    throw new AggregateFailedError(
      `required part ${JSON.stringify(deciding?.part)} is missing: ${deciding?.message ?? "failed"}`,
      status,
      missing,
      { cause: err },
    );
  }
  const parts: Record<string, unknown> = {};
  for (const p of request.parts) parts[p.name] = result.values[p.name] ?? null;
  const missing = result.missing.map((m) => entryOf(m, required));
  for (const m of missing) request.onMissing?.(m);
  const body = Buffer.from(JSON.stringify({ parts, missing: missing.map(publicEntry) }));
  return {
    kind: "buffered",
    status: 200,
    headers: { "content-type": "application/json", "cache-control": "no-store" },
    body,
  };
}

/** The entry as the document shows it (`required` is implied: only optional parts are listed). */
export function publicEntry(m: MissingEntry): Omit<MissingEntry, "required"> {
  const { required: _, ...rest } = m;
  return rest;
}

function fillParams(path: string, params: Readonly<Record<string, string | undefined>>): string {
  return path.replace(/:([A-Za-z_]\w*)/g, (whole, name: string) => {
    const value = params[name];
    return value === undefined ? whole : encodeURIComponent(value);
  });
}

function entryOf(m: MissingPart, required: ReadonlySet<string>): MissingEntry {
  const part = String(m.key);
  const isRequired = required.has(part);
  const reason = m.reason;
  if (m.status === "rejected" && reason instanceof PartStatusError) {
    return {
      part,
      reason: "upstream-status",
      status: reason.status,
      message: `the upstream answered ${reason.status}`,
      required: isRequired,
    };
  }
  if (m.status === "rejected" && reason instanceof PartBodyError) {
    return { part, reason: "invalid-body", message: reason.message, required: isRequired };
  }
  if (m.status === "rejected") {
    const text = reason instanceof Error ? reason.message : String(reason);
    return {
      part,
      reason: "upstream-failed",
      message: `the upstream failed: ${text}`,
      required: isRequired,
    };
  }
  return { part, reason: m.status, message: m.message, required: isRequired };
}
