import { contextPropagation } from "../src/rules/context-propagation.js";
import { CASE_FILE, asEslintRule, typedRuleTester } from "./rule-tester.js";

const IMPORTS = `import { type Context, background, sleep, withTimeout } from "timebound";\n`;

function code(
  body: string,
  options?: object,
): { code: string; filename: string; options?: object[] } {
  return { code: IMPORTS + body, filename: CASE_FILE, ...(options ? { options: [options] } : {}) };
}

function error(call: string, use: string, ctx = "ctx") {
  return { messageId: "withoutContext", data: { call, ctx, use } };
}

const FETCH = "fetch(ctx, url, init) from timebound/http";
const SIGNAL_TIMEOUT =
  "withTimeout(ctx, ms) from timebound (a deadline inside the tree: cleared when ctx ends, and its error says which deadline fired)";

const GRPC = `import { Client, type CallOptions, type Metadata, makeGenericClientConstructor } from "@grpc/grpc-js";
import { callOptions } from "timebound/grpc";
import { run } from "timebound";
type Reply = (err: unknown, value?: { message: string }) => void;
/** As @grpc/proto-loader's generated types and grpc-tools' declare a service's client. */
interface GreeterClient extends Client {
  sayHello(request: { name: string }, callback: Reply): unknown;
  sayHello(request: { name: string }, options: Partial<CallOptions>, callback: Reply): unknown;
  sayHello(request: { name: string }, metadata: Metadata, options: Partial<CallOptions>, callback: Reply): unknown;
  listHellos(request: { name: string }, options?: Partial<CallOptions>): NodeJS.ReadableStream;
}
`;
const GRPC_USE =
  'unary(ctx, client, "method", request), serverStream, clientStream or bidiStream from timebound/grpc (or pass callOptions(ctx) as the call options)';

typedRuleTester().run("context-propagation", asEslintRule(contextPropagation), {
  valid: [
    // The context's signal goes with the call.
    code(
      `export async function f(ctx: Context, url: string) { return fetch(url, { signal: ctx.signal }); }`,
    ),
    code(`export async function f(ctx: Context, url: string, other: AbortSignal) {
      return fetch(url, { signal: AbortSignal.any([ctx.signal, other]) });
    }`),
    // A signal made from the context's, then passed by name.
    code(`export async function f(ctx: Context, url: string, other: AbortSignal) {
      const signal = AbortSignal.any([ctx.signal, other]);
      return fetch(url, { signal });
    }`),
    // AbortSignal.timeout where no context is in scope.
    code(
      `export async function f(url: string) { return fetch(url, { signal: AbortSignal.timeout(5) }); }`,
    ),
    // timebound's own adapter.
    code(`import { fetch as tbFetch } from "timebound/http";
    export async function f(ctx: Context, url: string) { return tbFetch(ctx, url); }`),
    code(`import type { Pool } from "pg"; import { query } from "timebound/pg";
    export async function f(ctx: Context, pool: Pool) { return query(ctx, pool, "SELECT 1"); }`),
    // No context in scope: nothing to propagate.
    code(`export async function f(url: string) { return fetch(url); }`),
    // The context is declared after the call.
    code(
      `export async function f(url: string) { const res = await fetch(url); using ctx = withTimeout(background(), 5); await sleep(ctx, 1); return res; }`,
    ),
    // A kept timer handle can be cleared.
    code(
      `export function f(ctx: Context, fn: () => void) { const t = setTimeout(fn, 10); return () => clearTimeout(t); }`,
    ),
    code(`import { setTimeout as wait } from "node:timers/promises";
    export async function f(ctx: Context) { await wait(10, undefined, { signal: ctx.signal }); }`),
    code(`import { exec } from "node:child_process";
    export function f(ctx: Context) { exec("ls", { signal: ctx.signal }); }`),
    // ioredis: lifecycle methods are not commands.
    code(`import type { Redis } from "ioredis";
    export function f(ctx: Context, redis: Redis) { redis.on("error", () => {}); }`),
    // A local function that happens to be called fetch.
    code(`function fetch(url: string) { return url; }
    export function f(ctx: Context) { return fetch("x"); }`),
    // Self-lint (bench/core): one turn of the event loop is a yield, not a wait.
    code(`import { setImmediate as nextTurn } from "node:timers/promises";
    export async function f(ctx: Context) { await nextTurn(); }`),
    code(`import { setTimeout as wait } from "node:timers/promises";
    export async function f(ctx: Context) { await wait(0); await wait(); }`),
    code(
      `export async function f(ctx: Context) { await new Promise((r) => setTimeout(r, 0)); setTimeout(() => {}); }`,
    ),
    // gRPC: the call options carry the context (or its deadline).
    code(
      GRPC +
        `export function f(ctx: Context, c: GreeterClient, cb: Reply) { c.sayHello({ name: "a" }, callOptions(ctx), cb); }`,
    ),
    code(
      GRPC +
        `export function f(ctx: Context, c: GreeterClient) { return c.listHellos({ name: "a" }, { deadline: ctx.deadline ?? Infinity }); }`,
    ),
    // gRPC: the client's lifecycle is not a call; run(ctx, fn) binds ctx for contextInterceptor.
    code(
      GRPC +
        `export function f(ctx: Context, c: GreeterClient, cb: (e?: Error) => void) { c.waitForReady(Date.now() + 10, cb); c.close(); }`,
    ),
    code(
      GRPC +
        `export function f(ctx: Context, c: GreeterClient, cb: Reply) { run(ctx, () => c.sayHello({ name: "a" }, cb)); }`,
    ),
    // gRPC: no context in scope; a method of the same name on another class.
    code(
      GRPC + `export function f(c: GreeterClient, cb: Reply) { c.sayHello({ name: "a" }, cb); }`,
    ),
    code(`class Local { sayHello(_: unknown) { return 1; } }
    export function f(ctx: Context, c: Local) { return c.sayHello({ name: "a" }); }`),
    // The list is configurable: without fetch in it, fetch is not checked.
    code(`export async function f(ctx: Context, url: string) { return fetch(url); }`, { apis: [] }),
  ],
  invalid: [
    {
      // The seed's http.Get(url) inside a handler that has a context.
      ...code(`export async function handler(ctx: Context, url: string) {
  const res = await fetch(url);
  return res.text();
}`),
      errors: [{ ...error("fetch", FETCH), line: 3 }],
    },
    {
      // The lab's fetch-signal: run(ctx, …) binds the context, but fetch never reads it.
      ...code(`import { run } from "timebound";
export async function report(ctx: Context, url: string) {
  return run(ctx, async () => (await globalThis.fetch(url)).text());
}`),
      errors: [error("globalThis.fetch", FETCH)],
    },
    {
      // A signal that is not the context's: the deadline of a different clock.
      ...code(`export async function handler(ctx: Context, url: string) {
  return fetch(url, { signal: AbortSignal.timeout(500) });
}`),
      errors: [error("fetch", FETCH), error("AbortSignal.timeout", SIGNAL_TIMEOUT)],
    },
    {
      // A context from `using`, reached from a nested callback.
      ...code(`export async function handler(p: Context, urls: string[]) {
  using request = withTimeout(p, 500);
  return Promise.all(urls.map((url) => fetch(url)));
}`),
      errors: [error("fetch", FETCH, "request")],
    },
    {
      ...code(`import { request } from "undici";
export async function f(ctx: Context, url: string) { return request(url); }`),
      errors: [
        {
          messageId: "withoutContext",
          data: {
            call: "request",
            ctx: "ctx",
            use: "fetch(ctx, url, init) from timebound/http (or `dispatcher: contextDispatcher(...)`)",
          },
        },
      ],
    },
    {
      // The seed's db.QueryRow(...) for db.QueryRowContext(ctx, ...).
      ...code(`import type { Pool } from "pg";
export async function f(ctx: Context, pool: Pool) { return pool.query("SELECT pg_sleep(2)"); }`),
      errors: [error("pool.query", "query(ctx, client, sql, values) from timebound/pg")],
    },
    {
      ...code(`import type { Redis } from "ioredis";
export async function f(ctx: Context, redis: Redis) { return redis.blpop("jobs", 0); }`),
      errors: [
        error(
          "redis.blpop",
          'command(ctx, client, "name", ...args) from timebound/redis (blpop/brpop for blocking pops)',
        ),
      ],
    },
    {
      // The lab's process-tree: an AbortSignal kills /bin/sh, not what it started.
      ...code(`import * as cp from "node:child_process";
export function f(ctx: Context) { cp.exec("sleep 30 & sleep 30", { signal: AbortSignal.timeout(100) }); }`),
      errors: [
        error(
          "cp.exec",
          "exec/execFile/spawn(ctx, ...) from timebound/process (it stops the whole process group)",
        ),
        error("AbortSignal.timeout", SIGNAL_TIMEOUT),
      ],
    },
    {
      ...code(`import { setTimeout as wait } from "node:timers/promises";
export async function f(ctx: Context) { await wait(10_000); }`),
      errors: [error("wait", "sleep(ctx, ms) or ticker(ctx, ms) from timebound")],
    },
    {
      // The seed's time.AfterFunc recursion (section 2.2), inside a request handler.
      ...code(`export function onRequest(ctx: Context, cleanup: () => void) {
  const tick = () => {
    cleanup();
    setTimeout(tick, 5000);
  };
  setTimeout(tick, 5000);
}`),
      errors: [
        {
          messageId: "handleDropped",
          line: 5,
          data: {
            call: "setTimeout",
            ctx: "ctx",
            use: "sleep(ctx, ms) or afterFunc(ctx, fn) from timebound",
          },
        },
        { messageId: "handleDropped", line: 7 },
      ],
    },
    {
      // A delay that is not a literal 0 may be anything: reported.
      ...code(
        `export async function f(ctx: Context, ms: number) { await new Promise((r) => setTimeout(r, ms)); setInterval(() => {}, 0); }`,
      ),
      errors: [{ messageId: "handleDropped" }, { messageId: "handleDropped" }],
    },
    {
      // A hand-made sleep.
      ...code(
        `export async function f(ctx: Context) { await new Promise((resolve) => setTimeout(resolve, 100)); }`,
      ),
      errors: [{ messageId: "handleDropped" }],
    },
    {
      // gRPC: a generated client's unary and server-stream calls without the context.
      ...code(
        GRPC +
          `export function f(ctx: Context, c: GreeterClient, cb: Reply) {
  c.sayHello({ name: "a" }, cb);
  return c.listHellos({ name: "a" });
}`,
      ),
      errors: [
        {
          messageId: "withoutContext",
          line: 14,
          data: { call: "c.sayHello", ctx: "ctx", use: GRPC_USE },
        },
        {
          messageId: "withoutContext",
          line: 15,
          data: { call: "c.listHellos", ctx: "ctx", use: GRPC_USE },
        },
      ],
    },
    {
      // gRPC: a generic client (makeGenericClientConstructor) and Client's own request methods.
      ...code(
        GRPC +
          `export function f(ctx: Context, address: string, creds: never, def: never, raw: Client, cb: Reply) {
  const Greeter = makeGenericClientConstructor(def, "Greeter");
  const client = new Greeter(address, creds);
  client.sayHello({ name: "a" }, cb);
  raw.makeUnaryRequest("/Greeter/SayHello", (v: string) => Buffer.from(v), (b) => b.toString(), "a", cb);
}`,
      ),
      errors: [
        {
          messageId: "withoutContext",
          line: 16,
          data: { call: "client.sayHello", ctx: "ctx", use: GRPC_USE },
        },
        {
          messageId: "withoutContext",
          line: 17,
          data: { call: "raw.makeUnaryRequest", ctx: "ctx", use: GRPC_USE },
        },
      ],
    },
    {
      // An API added by configuration.
      ...code(
        `import { lookup } from "node:dns/promises";
export async function f(ctx: Context) { return lookup("example.org"); }`,
        {
          extraApis: [
            { module: "dns/promises", names: ["lookup"], use: "a resolver that takes ctx" },
          ],
        },
      ),
      errors: [
        {
          messageId: "withoutContext",
          data: { call: "lookup", ctx: "ctx", use: "a resolver that takes ctx" },
        },
      ],
    },
  ],
});
