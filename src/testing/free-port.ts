import { createServer } from "node:net";

/**
 * A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it).
 *
 * @example
 * ```ts
 * const port = await freePort();
 * server.listen(port, "127.0.0.1");
 * ```
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (typeof address === "object" && address !== null) resolve(address.port);
        else reject(new Error("freePort: the server has no TCP address"));
      });
    });
  });
}

/**
 * Resolves if `port` can be listened on at 127.0.0.1 right now; rejects with an error naming
 * `fn` and saying why not (taken, or below 1024 without the privilege).
 *
 * @internal
 */
export function checkPortFree(fn: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", (err: NodeJS.ErrnoException) => reject(portError(fn, port, err.code)));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve()));
  });
}

/**
 * The error for options.port `port` that cannot be used (`code` from the failed bind).
 *
 * @internal
 */
export function portError(fn: string, port: number, code: string | undefined): Error {
  const why =
    code === "EADDRINUSE"
      ? "is taken on 127.0.0.1 (EADDRINUSE)"
      : code === "EACCES"
        ? "needs a privilege this process lacks (EACCES)"
        : `cannot be listened on at 127.0.0.1 (${code ?? "unknown error"})`;
  return new Error(
    `${fn}: options.port ${port} ${why}: choose another port, or leave it out to get a free one`,
  );
}
