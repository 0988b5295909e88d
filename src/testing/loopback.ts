import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * Starts `server` on a free 127.0.0.1 port and returns its base URL (`http://127.0.0.1:port`).
 *
 * @example
 * ```ts
 * const server = http.createServer((req, res) => res.end("ok"));
 * const base = await listenLoopback(server);
 * await fetch(`${base}/health`);
 * await closeNow(server);
 * ```
 */
export async function listenLoopback(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/**
 * Closes `server` now, dropping its open connections instead of waiting for them.
 *
 * @example
 * ```ts
 * after(() => closeNow(server)); // node:test: keep-alive connections do not hold the test up
 * ```
 */
export function closeNow(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
