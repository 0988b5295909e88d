// Real loopback servers for the HTTP tests, each keeping its own log of what it saw, so tests
// can check that the work stopped on the server side, not only that the caller was released.
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import { type AddressInfo, type Socket, connect, createServer as createTcpServer } from "node:net";
import { after, before } from "node:test";
import { now } from "../../../src/index.js";

/** How late a caller may be released after its deadline, on a noisy 2-core machine. */
export const CALLER_SLACK_MS = 150;
/** How late a server may see its connection close after the caller's deadline. */
export const SERVER_SLACK_MS = 250;

/** What the server saw of one request. */
export interface Served {
  readonly headers: IncomingMessage["headers"];
  readonly startedAt: number;
  /** When the response closed (finished or not), or undefined while open. */
  closedAt: number | undefined;
  /** Whether the response was sent to the end. */
  finished: boolean;
  bytesSent: number;
  /** Resolves with `closedAt` when the response closes. */
  readonly closed: Promise<number>;
}

export interface TestServer {
  readonly url: string;
  readonly served: Served[];
  /** TCP connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

/** Starts `server` on a free loopback port and wraps it with a log. */
export async function start(
  handle: (req: IncomingMessage, res: ServerResponse, served: Served) => void,
): Promise<TestServer> {
  const served: Served[] = [];
  let connections = 0;
  const server = createServer((req, res) => {
    let onClosed: (at: number) => void = () => {};
    const entry: Served = {
      headers: req.headers,
      startedAt: now(),
      closedAt: undefined,
      finished: false,
      bytesSent: 0,
      closed: new Promise((resolve) => (onClosed = resolve)),
    };
    served.push(entry);
    res.on("close", () => {
      entry.closedAt = now();
      entry.finished = res.writableFinished;
      onClosed(entry.closedAt);
    });
    handle(req, res, entry);
  });
  server.on("connection", () => connections++);
  return {
    url: await listen(server),
    served,
    connections: () => connections,
    close: () => closeServer(server),
  };
}

export function listen(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve(`http://127.0.0.1:${port}`);
    });
  });
}

export function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Writes `chunk` every `everyMs` for `forMs`, then ends; stops when the response closes. */
export function trickle(
  res: ServerResponse,
  served: Served,
  { everyMs = 50, forMs = 10_000, chunk = "x".repeat(64) } = {},
): void {
  res.writeHead(200, { "content-type": "text/plain" });
  res.flushHeaders();
  const until = now() + forMs;
  const timer = setInterval(() => {
    if (now() >= until) {
      clearInterval(timer);
      res.end();
      return;
    }
    res.write(chunk);
    served.bytesSent += chunk.length;
  }, everyMs);
  res.on("close", () => clearInterval(timer));
}

/** A server that sends headers at once, then a chunk every 50 ms for 10 s. */
export function trickleServer(): Promise<TestServer> {
  return start((_req, res, served) => trickle(res, served));
}

/** A server that sends its headers only after 5 s (unless the request goes first). */
export function slowServer(): Promise<TestServer> {
  return start((_req, res) => {
    const timer = setTimeout(() => res.end("late"), 5_000);
    res.on("close", () => clearTimeout(timer));
  });
}

/**
 * A trickling server and an "ok" server for the tests of one `describe`: started before them,
 * closed after. Read the fields inside the tests.
 */
export function useServers(): { trickling: TestServer; ok: TestServer } {
  const servers = {} as { trickling: TestServer; ok: TestServer };
  before(async () => {
    servers.trickling = await trickleServer();
    servers.ok = await okServer();
  });
  after(async () => {
    await servers.trickling.close();
    await servers.ok.close();
  });
  return servers;
}

/** Reads `reader` to its end (at most 1,000 chunks), within 2 s. */
export function drain(reader: { read(): Promise<{ done?: boolean }> }): Promise<void> {
  return within(
    (async () => {
      for (let i = 0; i < 1_000; i++) if ((await reader.read()).done) return;
    })(),
    2_000,
    "reading the body",
  );
}

/** A server that answers "ok" (and echoes the deadline header it got as `x-got`). */
export function okServer(header = "timebound-timeout"): Promise<TestServer> {
  return start((req, res) => {
    const got = req.headers[header];
    res.setHeader("x-got", typeof got === "string" ? got : "none");
    res.end("ok");
  });
}

/** One connection a {@link silentServer} accepted. */
export interface SilentConnection {
  /** Whether a request arrived on it (undici may also open one it never uses). */
  gotRequest: boolean;
  closedAt: number | undefined;
}

/** A TCP server that accepts connections, reads them, and never says a word. */
export async function silentServer(): Promise<{
  url: string;
  connections: SilentConnection[];
  close(): Promise<void>;
}> {
  const sockets = new Set<Socket>();
  const connections: SilentConnection[] = [];
  const server = createTcpServer((socket) => {
    const seen: SilentConnection = { gotRequest: false, closedAt: undefined };
    connections.push(seen);
    sockets.add(socket);
    socket.on("error", () => {});
    // Reading is what lets the server see the client close the connection.
    socket.on("data", () => (seen.gotRequest = true));
    socket.on("close", () => {
      sockets.delete(socket);
      seen.closedAt = now();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    connections,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Resolves with `p`'s settled time, or rejects if it takes longer than `ms` (never hangs). */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still pending after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, guard]);
  } finally {
    clearTimeout(timer);
  }
}

/** Settles `p` and returns the rejection (fails if it fulfils) and when it settled. */
export async function rejection(p: Promise<unknown>): Promise<{ err: unknown; at: number }> {
  try {
    await p;
  } catch (err) {
    return { err, at: now() };
  }
  throw new Error("expected a rejection, got a value");
}

/**
 * Opens one TCP connection to `url` and writes the GET requests for `paths` in one go, pipelined
 * (HTTP/1.1: each waits for the answer before it). Resolves with the socket once connected.
 */
export function pipelined(url: string, paths: readonly string[], headers = ""): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(paths.map((p) => `GET ${p} HTTP/1.1\r\nHost: test\r\n${headers}\r\n`).join(""));
      resolve(socket);
    });
    socket.on("error", reject);
  });
}
