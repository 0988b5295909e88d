import { Redis, type RedisOptions } from "ioredis";
import { background, now } from "../../../src/index.js";
import { type ClientEntry, clientList, isBlocked } from "../../../src/io/redis/client-list.js";
import { type RedisArgument, type RedisClientLike, command } from "../../../src/io/redis/index.js";
import { redisUrl } from "../../services.js";
import type { ClientKind, TestClientOptions } from "./drivers.js";

/** Clients made by {@link newClient} and {@link newClientOf}, closed by {@link disconnectAll}. */
const made = new Map<RedisClientLike, { readonly name: string; readonly kind?: ClientKind }>();
let counter = 0;

/**
 * An ioredis client to the test Redis, named `<prefix>-<n>-<pid>` (CLIENT SETNAME) so that the
 * server's CLIENT LIST tells this test's connections (and their dedicated ones) from others'.
 */
export function newClient(prefix: string, options: RedisOptions = {}): Redis {
  const url = new URL(redisUrl());
  const client = new Redis({
    host: url.hostname,
    port: Number(url.port),
    connectionName: `${prefix}-${++counter}-${process.pid}`,
    ...options,
  });
  client.on("error", () => {}); // some tests break connections on purpose
  made.set(client, { name: client.options.connectionName ?? "" });
  return client;
}

/** A client of `kind` to the test Redis (or `options.port`), named as {@link newClient}'s. */
export function newClientOf(
  kind: ClientKind,
  prefix: string,
  options?: TestClientOptions,
): RedisClientLike {
  const name = `${prefix}-${++counter}-${process.pid}`;
  const client = kind.open(name, options);
  made.set(client, { name, kind });
  return client;
}

export function disconnectAll(): void {
  for (const [client, { kind }] of made) {
    if (kind === undefined) (client as Redis).disconnect();
    else kind.destroy(client);
  }
  made.clear();
}

/** The name a client was given by {@link newClient} or {@link newClientOf}. */
export function nameOf(client: RedisClientLike): string {
  return made.get(client)?.name ?? "";
}

/** Runs `name args...` on `client` through the adapter, with no deadline. */
export function run(
  client: RedisClientLike,
  name: string,
  ...args: RedisArgument[]
): Promise<unknown> {
  return command(background(), client, name, ...args);
}

/** CLIENT LIST entries of `client` and the connections timebound opened for it. */
export async function connectionsOf(
  observer: Redis,
  client: RedisClientLike,
): Promise<ClientEntry[]> {
  const name = nameOf(client);
  return (await clientList(observer)).filter(
    (e) => e.name === name || e.name.startsWith(`${name}:`),
  );
}

/** Those of {@link connectionsOf} that the server has blocked right now. */
export async function blockedOf(observer: Redis, client: RedisClientLike): Promise<ClientEntry[]> {
  return (await connectionsOf(observer, client)).filter(isBlocked);
}

/** Polls `check` until it returns true or `timeoutMs` passes; returns the last answer. */
export async function eventually(
  check: () => Promise<boolean> | boolean,
  timeoutMs = 2_000,
): Promise<boolean> {
  const until = now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (now() >= until) return false;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Every command the server runs while `fn` runs, as MONITOR reports them (lower-case name first). */
export async function monitored(observer: Redis, fn: () => Promise<void>): Promise<string[][]> {
  const monitor = await observer.monitor();
  // Monitor output still arriving as it disconnects is reported as an error: not ours to fail on.
  monitor.on("error", () => {});
  const seen: string[][] = [];
  monitor.on("monitor", (_time: string, args: string[]) => {
    seen.push([String(args[0]).toLowerCase(), ...args.slice(1)]);
  });
  try {
    await fn();
    // MONITOR reports commands in the order they ran: once this marker shows, fn's are in.
    const marker = uniqueKey("monitor-marker");
    await observer.echo(marker);
    await eventually(() => seen.some((c) => c[0] === "echo" && c[1] === marker), 1_000);
  } finally {
    monitor.disconnect();
  }
  return seen;
}

/** Runs `fn` and says how long it took to settle, and how. */
export async function timed(
  fn: () => Promise<unknown>,
): Promise<{ ms: number; value?: unknown; error?: unknown }> {
  const start = now();
  try {
    const value = await fn();
    return { ms: now() - start, value };
  } catch (error) {
    return { ms: now() - start, error };
  }
}

/** A key no other test (or run) uses. */
export function uniqueKey(what: string): string {
  return `test:${what}:${process.pid}:${++counter}`;
}
