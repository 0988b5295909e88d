import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

/** Starts `server` on a free 127.0.0.1 port and returns its base URL (`http://127.0.0.1:port`). */
export async function listenLoopback(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Closes `server` now, dropping its open connections instead of waiting for them. */
export function closeNow(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
