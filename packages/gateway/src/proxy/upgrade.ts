// WebSocket (and any HTTP/1.1 Upgrade) passed through: the request head is sent to a target as
// is, less hop-by-hop headers but with its Upgrade, and from then on bytes flow both ways
// untouched until either side closes or the route's maximum lifetime passes.
import type { IncomingMessage } from "node:http";
import { type Socket, connect } from "node:net";
import type { Duplex } from "node:stream";
import type { HeaderList } from "./headers.js";

/**
 * Passes an upgrade through to `origin`; `onEnd` learns when the tunnel is gone. Returns a
 * function that closes the tunnel now (a gateway's shutdown).
 */
export function tunnelUpgrade(
  req: IncomingMessage,
  client: Duplex,
  head: Buffer,
  origin: string,
  path: string,
  headers: HeaderList,
  maxLifetimeMs: number,
  onEnd: (reason: "closed" | "lifetime" | "upstream-failed" | "shutdown") => void,
): () => void {
  const url = new URL(origin);
  const upstream: Socket = connect({ host: url.hostname, port: Number(url.port || 80) });
  let ended = false;
  const end = (reason: "closed" | "lifetime" | "upstream-failed" | "shutdown"): void => {
    if (ended) return;
    ended = true;
    clearTimeout(lifetime);
    upstream.destroy();
    client.destroy();
    onEnd(reason);
  };
  const lifetime = setTimeout(() => end("lifetime"), maxLifetimeMs);
  lifetime.unref();
  upstream.once("connect", () => {
    const lines = [`${req.method ?? "GET"} ${path} HTTP/1.1`];
    for (let i = 0; i < headers.length; i += 2) lines.push(`${headers[i]}: ${headers[i + 1]}`);
    lines.push(`connection: upgrade`, `upgrade: ${String(req.headers.upgrade)}`, "", "");
    upstream.write(lines.join("\r\n"));
    if (head.length > 0) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  });
  upstream.once("error", () => {
    if (!upstream.readableDidRead && client.writable && !ended) {
      client.end("HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
    }
    end("upstream-failed");
  });
  upstream.once("close", () => end("closed"));
  client.once("close", () => end("closed"));
  client.once("error", () => end("closed"));
  return () => end("shutdown");
}
