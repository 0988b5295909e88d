// One part of an aggregation route: a GET to the part's upstream through the same machinery as
// a proxied request (a target picked by the cluster's balancing, the part's own time left in the
// deadline headers, outlier detection told how it went), its answer read whole and decoded.
import { type Context, afterFunc } from "timebound";
import { type HeaderList, addDeadlineHeaders, setHeader } from "../proxy/headers.js";
import type { Cluster } from "../upstream/cluster.js";
import type { UpstreamExchange } from "../upstream/exchange.js";

/** Time kept back from what is sent upstream, for the answer's way back. */
const UPSTREAM_MARGIN_MS = 5;

/** A part's upstream answered with a status outside 200-299. */
export class PartStatusError extends Error {
  constructor(
    readonly part: string,
    readonly status: number,
  ) {
    super(`the upstream answered ${status}`);
  }
}
Object.defineProperty(PartStatusError.prototype, "name", { value: "PartStatusError" });

/** A part's answer said it was JSON and was not. */
export class PartBodyError extends Error {}
Object.defineProperty(PartBodyError.prototype, "name", { value: "PartBodyError" });

/** What a part's request needs besides its context. */
export interface PartRequest {
  readonly name: string;
  readonly cluster: Cluster;
  /** Path and query sent upstream (route parameters already put in). */
  readonly path: string;
  /** Headers from the client's request (hop-by-hop and deadline headers removed). */
  readonly headers: Readonly<HeaderList>;
  /** Send the target's authority as Host (else the client's, already in `headers`). */
  readonly upstreamHost: boolean;
  /** Largest answer read, in bytes. */
  readonly maxBytes: number;
}

/**
 * Fetches one part under `ctx` (its budget): resolves with the decoded body (JSON when the
 * answer says so, else text); rejects with {@link PartStatusError} on a status outside 200-299,
 * with `ctx`'s error when it ends first (the upstream request is closed).
 */
export async function fetchPart(ctx: Context, part: PartRequest): Promise<unknown> {
  ctx.throwIfDone();
  const cluster = part.cluster;
  const target = cluster.pick();
  const headers = part.headers.slice();
  if (part.upstreamHost) setHeader(headers, "host", target.host);
  addDeadlineHeaders(headers, ctx.remaining() - UPSTREAM_MARGIN_MS, cluster.config.grpc === true);
  const exchange = cluster.send(target, { method: "GET", path: part.path, headers, body: null });
  // One watcher for the whole exchange: head and body.
  const stop = afterFunc(ctx, () => exchange.abort(ctx.err!));
  let head: UpstreamExchange;
  try {
    head = await exchange.head;
  } catch (err) {
    stop();
    target.record(false, cluster.config);
    throw ctx.err ?? err;
  }
  target.record(head.status < 500, cluster.config);
  try {
    if (head.status < 200 || head.status > 299) {
      head.abort(new Error("part answer not used"));
      throw new PartStatusError(part.name, head.status);
    }
    const answer = await head.buffer(part.maxBytes).catch((err: unknown) => {
      throw ctx.err ?? err;
    });
    const type = String(answer.headers["content-type"] ?? "");
    const text = answer.body.toString("utf8");
    if (!/\bjson\b/i.test(type)) return text;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new PartBodyError(`the upstream's answer is not valid JSON (content-type ${type})`);
    }
  } finally {
    stop();
  }
}
