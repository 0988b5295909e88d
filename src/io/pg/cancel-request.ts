import { startTimer } from "../../core/internal.js";
import { type Socket, connect } from "node:net";
import type { DriverClient } from "./driver.js";

/** @internal Where a backend's postmaster listens: a TCP address or a Unix socket path. */
export type CancelTarget =
  { readonly host: string; readonly port: number } | { readonly path: string };

/**
 * What became of a CancelRequest:
 * - `delivered`: the server read it and closed the connection. PostgreSQL signals the backend
 *   before it closes, so no cancel can arrive later than this.
 * - `not-sent`: no connection was made, so nothing reached the server.
 * - `unknown`: the bytes may have gone out but the server did not close in time (or the socket
 *   failed); a cancel might still land on whatever the backend runs next.
 */
export type CancelDelivery = "delivered" | "not-sent" | "unknown";

/** The CancelRequest code: 1234 in the high 16 bits, 5678 in the low (protocol 3.0, §55.2.8). */
const CANCEL_REQUEST_CODE = 80_877_102;

/**
 * @internal Sends PostgreSQL's CancelRequest for the backend `processId` (with its `secretKey`,
 * both from BackendKeyData) on a new connection, and resolves when the server has closed it: the
 * protocol has no reply, and the close is the only sign that the request was acted on. The message
 * is 16 bytes: length 16, the code, the process id, the key. It goes out unencrypted even when the
 * session uses TLS, as libpq's PQcancel does; the server reads it before any authentication. Never
 * rejects; gives up after `timeoutMs`.
 *
 * @example
 * ```ts
 * const delivery = await sendCancelRequest(cancelTarget(client), pid, key, 1000);
 * ```
 */
export function sendCancelRequest(
  target: CancelTarget,
  processId: number,
  secretKey: number,
  timeoutMs: number,
): Promise<CancelDelivery> {
  const message = Buffer.alloc(16);
  message.writeInt32BE(16, 0);
  message.writeInt32BE(CANCEL_REQUEST_CODE, 4);
  message.writeUInt32BE(processId >>> 0, 8);
  message.writeUInt32BE(secretKey >>> 0, 12); // pg reads the key as a signed int32
  return new Promise((resolve) => {
    let connected = false;
    let failed = false;
    const socket: Socket = connect(target);
    socket.setNoDelay(true);
    const timer = startTimer(() => {
      failed = true;
      socket.destroy();
    }, timeoutMs);
    socket.once("connect", () => {
      connected = true;
      socket.end(message);
    });
    socket.on("error", () => {
      failed = true; // 'close' follows
    });
    socket.once("close", () => {
      clearTimeout(timer);
      resolve(!connected ? "not-sent" : failed ? "unknown" : "delivered");
    });
  });
}

/**
 * @internal The address the client is actually connected to (the socket's peer, so a host name that
 * resolves to several servers still reaches the right one), or its Unix socket path.
 */
export function cancelTarget(client: DriverClient): CancelTarget {
  const stream = client.connection.stream;
  if (typeof stream.remoteAddress === "string" && typeof stream.remotePort === "number") {
    return { host: stream.remoteAddress, port: stream.remotePort };
  }
  if (client.host.startsWith("/")) return { path: `${client.host}/.s.PGSQL.${client.port}` };
  return { host: client.host, port: client.port };
}
