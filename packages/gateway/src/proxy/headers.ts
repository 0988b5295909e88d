// Header hygiene between client and upstream (RFC 9110 7.6.1): hop-by-hop headers stay on their
// hop, the client's address and scheme go upstream in X-Forwarded-* and Forwarded, and the
// caller's deadline headers are replaced by the time this gateway actually has left.
import type { IncomingHttpHeaders } from "node:http";
import { encodeTimeout } from "timebound/http";

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "http2-settings",
]);

/** Headers that carry a deadline: the gateway sends its own, never the caller's. */
export const DEADLINE_HEADERS = new Set([
  "timebound-timeout",
  "grpc-timeout",
  "x-envoy-expected-rq-timeout-ms",
]);

/** Headers the `Connection` header names are hop-by-hop too. */
function connectionListed(headers: IncomingHttpHeaders): Set<string> | undefined {
  const value = headers.connection;
  // The usual values name no header of their own (keep-alive is hop-by-hop anyway).
  if (value === undefined || value === "keep-alive" || value === "close") return undefined;
  const names = new Set<string>();
  for (const name of value.split(",")) {
    const n = name.trim().toLowerCase();
    if (n !== "") names.add(n);
  }
  return names;
}

/** What the gateway knows of the hop it received a request on. */
export interface ClientHop {
  readonly address: string | undefined;
  readonly proto: "http" | "https";
  readonly host: string | undefined;
  readonly requestId: string;
}

/**
 * Header fields as a flat list, name then value, as undici and node:http take them. A list
 * rather than a record: a record keyed by whatever names a client sent goes to V8's dictionary
 * mode and every site that reads or writes one goes megamorphic, which cost the proxy path
 * more than the headers themselves (docs/benchmarks.md).
 */
export type HeaderList = string[];

function pushField(out: HeaderList, name: string, value: string | string[]): void {
  if (typeof value === "string") out.push(name, value);
  else for (const v of value) out.push(name, v);
}

/**
 * The headers to send upstream: the client's, less hop-by-hop and deadline headers, plus the
 * forwarding headers; `host` is the upstream's authority unless the route keeps the client's.
 * `bodyless` also leaves out the client's body headers (for requests that send no body).
 */
export function upstreamRequestHeaders(
  incoming: IncomingHttpHeaders,
  hop: ClientHop,
  upstreamHost: string | undefined,
  bodyless = false,
): HeaderList {
  const listed = connectionListed(incoming);
  const out: HeaderList = [];
  for (const name in incoming) {
    if (HOP_BY_HOP.has(name) || DEADLINE_HEADERS.has(name) || listed?.has(name)) continue;
    if (name === "host" || name === "x-forwarded-for" || name === "forwarded") continue;
    if (bodyless && (name === "content-length" || name === "content-type")) continue;
    const value = incoming[name];
    if (value !== undefined) pushField(out, name, value);
  }
  const host = upstreamHost ?? hop.host;
  if (host !== undefined) out.push("host", host);
  const prior = incoming["x-forwarded-for"];
  const address = hop.address ?? "unknown";
  out.push("x-forwarded-for", prior === undefined ? address : `${String(prior)}, ${address}`);
  out.push("x-forwarded-proto", hop.proto);
  if (hop.host !== undefined) out.push("x-forwarded-host", hop.host);
  const forwardedFor = address.includes(":") ? `"[${address}]"` : address;
  const element = `for=${forwardedFor};proto=${hop.proto}${hop.host === undefined ? "" : `;host="${hop.host}"`}`;
  const priorForwarded = incoming.forwarded;
  out.push("forwarded", priorForwarded === undefined ? element : `${priorForwarded}, ${element}`);
  out.push("x-request-id", hop.requestId);
  return out;
}

/** Sets `name` in `headers` to `value`, replacing the field of that name if there is one. */
export function setHeader(headers: HeaderList, name: string, value: string): void {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === name) {
      headers[i + 1] = value;
      return;
    }
  }
  headers.push(name, value);
}

/**
 * Adds the time the upstream has, `ms` (the context's time left less the way back), in
 * timebound's deadline header and Envoy's, and in `grpc-timeout` for a gRPC upstream. Adds
 * nothing when there is no time left or no deadline a header can carry.
 */
export function addDeadlineHeaders(headers: HeaderList, ms: number, grpc: boolean): void {
  if (!(ms > 0 && ms < 2 ** 31 - 1)) return;
  const whole = Math.floor(ms);
  const encoded = encodeTimeout(whole);
  headers.push("timebound-timeout", encoded, "x-envoy-expected-rq-timeout-ms", String(whole));
  if (grpc) headers.push("grpc-timeout", encoded);
}

/** The upstream's response headers to pass to the client, less hop-by-hop ones. */
export function clientResponseHeaders(upstream: IncomingHttpHeaders): HeaderList {
  const listed = connectionListed(upstream);
  const out: HeaderList = [];
  for (const name in upstream) {
    if (HOP_BY_HOP.has(name) || listed?.has(name)) continue;
    const value = upstream[name];
    if (value !== undefined) pushField(out, name, value);
  }
  return out;
}
