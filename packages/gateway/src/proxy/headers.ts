// Header hygiene between client and upstream (RFC 9110 7.6.1): hop-by-hop headers stay on their
// hop, the client's address and scheme go upstream in X-Forwarded-* and Forwarded, and the
// caller's deadline headers are replaced by the time this gateway actually has left.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";

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
 * The headers to send upstream: the client's, less hop-by-hop and deadline headers, plus the
 * forwarding headers; `host` is the upstream's authority unless the route keeps the client's.
 */
export function upstreamRequestHeaders(
  incoming: IncomingHttpHeaders,
  hop: ClientHop,
  upstreamHost: string | undefined,
): Record<string, string | string[]> {
  const listed = connectionListed(incoming);
  const out: Record<string, string | string[]> = {};
  for (const name in incoming) {
    if (HOP_BY_HOP.has(name) || DEADLINE_HEADERS.has(name) || listed?.has(name)) continue;
    if (name === "host" || name === "x-forwarded-for" || name === "forwarded") continue;
    const value = incoming[name];
    if (value !== undefined) out[name] = value;
  }
  const prior = incoming["x-forwarded-for"];
  const address = hop.address ?? "unknown";
  out["x-forwarded-for"] = prior === undefined ? address : `${String(prior)}, ${address}`;
  out["x-forwarded-proto"] = hop.proto;
  if (hop.host !== undefined) out["x-forwarded-host"] = hop.host;
  const forwardedFor = address.includes(":") ? `"[${address}]"` : address;
  const element = `for=${forwardedFor};proto=${hop.proto}${hop.host === undefined ? "" : `;host="${hop.host}"`}`;
  const priorForwarded = incoming.forwarded;
  out.forwarded = priorForwarded === undefined ? element : `${String(priorForwarded)}, ${element}`;
  out["x-request-id"] = hop.requestId;
  const host = upstreamHost ?? hop.host;
  if (host !== undefined) out.host = host;
  return out;
}

/** The upstream's response headers to pass to the client, less hop-by-hop ones. */
export function clientResponseHeaders(upstream: IncomingHttpHeaders): OutgoingHttpHeaders {
  const listed = connectionListed(upstream);
  const out: OutgoingHttpHeaders = {};
  for (const name in upstream) {
    if (HOP_BY_HOP.has(name) || listed?.has(name)) continue;
    const value = upstream[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}
