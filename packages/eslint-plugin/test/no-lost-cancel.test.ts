import { noLostCancel } from "../src/rules/no-lost-cancel.js";
import { CASE_FILE, asEslintRule, typedRuleTester } from "./rule-tester.js";

const IMPORTS = `import { type CancelableContext, type Context, background, sleep, withCancel, withTimeout, withTimeoutCause } from "timebound";\n`;

/** A case as RuleTester wants it: the imports first, parsed as the typed project's file. */
function code(body: string): { code: string; filename: string } {
  return { code: IMPORTS + body, filename: CASE_FILE };
}

typedRuleTester().run("no-lost-cancel", asEslintRule(noLostCancel), {
  valid: [
    // using: Go's defer cancel().
    code(
      `export async function f(p: Context) { using ctx = withTimeout(p, 100); await sleep(ctx, 1); }`,
    ),
    // cancel in finally covers returns and throws.
    code(`export async function f(p: Context, x: boolean) {
      const ctx = withTimeout(p, 100);
      try {
        if (x) return 1;
        if (!x) throw new Error("no");
        await sleep(ctx, 1);
        return 2;
      } finally {
        ctx.cancel();
      }
    }`),
    // cancelled on every branch, early return included.
    code(`export function f(p: Context, x: boolean) {
      const ctx = withCancel(p);
      if (x) { ctx.cancel(); return; }
      if (!x) { ctx.cancel(); throw new Error("no"); }
      ctx.cancel();
    }`),
    // returned: the caller owns it.
    code(`export function derive(p: Context) { const ctx = withTimeout(p, 1); return ctx; }`),
    code(`export const derive = (p: Context) => withTimeout(p, 1);`),
    code(`export function derive(p: Context) { return withTimeout(p, 1); }`),
    // stored: whoever holds it cancels it.
    code(
      `export class S { ctx: Context | undefined; start(p: Context) { const ctx = withCancel(p); this.ctx = ctx; } }`,
    ),
    code(
      `export function f(p: Context, all: Context[]) { const ctx = withCancel(p); all.push(ctx); }`,
    ),
    code(`export function f(p: Context) { const ctx = withCancel(p); return { ctx, at: 1 }; }`),
    code(`export function f(p: Context, stack: DisposableStack) { stack.use(withTimeout(p, 5)); }`),
    // handed on: the cancel runs when someone else says so.
    code(`import { EventEmitter } from "node:events";
    export function f(p: Context, res: EventEmitter) {
      const ctx = withCancel(p);
      res.on("close", () => ctx.cancel());
      return sleep(ctx, 1);
    }`),
    code(
      `export function f(p: Context, later: (fn: () => void) => void) { const ctx = withCancel(p); later(ctx.cancel); }`,
    ),
    // handed to a parameter that can cancel it: the callee owns it.
    code(`async function serve(server: CancelableContext) { try { await sleep(server, 1); } finally { server.cancel(); } }
    export async function run(p: Context) { const server = withCancel(p); await serve(server); }`),
    // aliases.
    code(
      `export function f(p: Context) { const ctx = withCancel(p); const same = ctx; same.cancel(); }`,
    ),
    code(
      `export function f(p: Context) { const ctx = withCancel(p); const stop = () => ctx.cancel(); stop(); }`,
    ),
    code(`export function f(p: Context) { const ctx = withCancel(p); ctx[Symbol.dispose](); }`),
    // a choice of factories, kept with using.
    code(
      `export function f(p: Context, ms?: number) { using ctx = ms === undefined ? withCancel(p) : withTimeout(p, ms); return ctx.err; }`,
    ),
    // namespace import.
    code(`import * as tb from "timebound";
    export async function f(p: Context) { using ctx = tb.withTimeout(p, 5); await tb.sleep(ctx, 1); }`),
    // module level: a process-wide root is not a lost cancel.
    code(`export const server = withCancel(background());`),
    // Self-lint: made and cancelled in one expression (bench/core's loops).
    code(`export function f(p: Context) { for (let i = 0; i < 10; i++) withCancel(p).cancel(); }`),
    code(`export function f(p: Context) { withTimeout(p, 60_000)[Symbol.dispose](); }`),
    // Self-lint (src/lab/nested-deadlines.ts): cancelling the parent ends the child, and the
    // parent is cancelled in finally (and early, by a timer: that does not lose the finally).
    code(`export async function f(p: Context, at: (fn: () => void) => void) {
      const parent = withTimeout(p, 100);
      const child = withTimeout(parent, 50);
      at(() => parent.cancel());
      try {
        await sleep(child, 1);
      } finally {
        parent.cancel();
      }
    }`),
    // A child under a `using` parent of the same block is disposed with it.
    code(`export async function f(p: Context) {
      using parent = withTimeout(p, 100);
      const child = withCancel(parent);
      await sleep(child, 1);
    }`),
    // not timebound's withTimeout.
    {
      code: `function withTimeout(ms: number) { return { ms }; }
    export function f() { const t = withTimeout(5); return t.ms + 1; }`,
      filename: CASE_FILE,
    },
  ],
  invalid: [
    {
      // The seed's leakyHandler (section 2.4), as the lab's missing-cancel writes it.
      ...code(`export async function leakyHandler(server: Context) {
  const ctx = withTimeout(server, 60_000, { name: "request" });
  await sleep(ctx, 0);
  return "OK";
}`),
      errors: [
        {
          messageId: "lost",
          line: 3,
          suggestions: [
            {
              messageId: "useUsing",
              output:
                IMPORTS +
                `export async function leakyHandler(server: Context) {
  using ctx = withTimeout(server, 60_000, { name: "request" });
  await sleep(ctx, 0);
  return "OK";
}`,
            },
          ],
        },
      ],
    },
    {
      // An early return skips the cancel.
      ...code(`export async function f(p: Context, cached: string | undefined) {
  const ctx = withTimeout(p, 100);
  if (cached !== undefined) return cached;
  await sleep(ctx, 1);
  ctx.cancel();
  return "fresh";
}`),
      errors: [
        {
          messageId: "lostOnPath",
          line: 3,
          data: { name: "ctx", factory: "withTimeout", exit: "returns at line 4" },
          suggestions: 1,
        },
      ],
    },
    {
      // A throw skips it too.
      ...code(`export function f(p: Context, input: string) {
  const ctx = withCancel(p);
  if (input === "") throw new Error("empty");
  ctx.cancel();
}`),
      errors: [
        {
          messageId: "lostOnPath",
          line: 3,
          data: { name: "ctx", factory: "withCancel", exit: "throws at line 4" },
          suggestions: 1,
        },
      ],
    },
    {
      // Cancelled on one branch only.
      ...code(`export function f(p: Context, x: boolean) {
  const ctx = withCancel(p);
  if (x) ctx.cancel();
}`),
      errors: [
        {
          messageId: "lostOnPath",
          line: 3,
          data: {
            name: "ctx",
            factory: "withCancel",
            exit: "reaches the end of the function (line 5)",
          },
          suggestions: 1,
        },
      ],
    },
    {
      // continue skips the cancel of this iteration's context.
      ...code(`export async function f(p: Context, ids: string[]) {
  for (const id of ids) {
    const ctx = withTimeout(p, 10);
    if (id === "") continue;
    await sleep(ctx, 1);
    ctx.cancel();
  }
}`),
      errors: [{ messageId: "lostOnPath", line: 4, suggestions: 1 }],
    },
    {
      // Nested function: the callback owns its own context.
      ...code(`export async function f(p: Context, ids: string[]) {
  await Promise.all(ids.map(async () => {
    const ctx = withTimeout(p, 10);
    await sleep(ctx, 1);
  }));
}`),
      errors: [{ messageId: "lost", line: 4, suggestions: 1 }],
    },
    {
      // Passed to a parameter typed Context: the callee uses it, it cannot cancel it.
      ...code(`async function serve(server: Context) { await sleep(server, 1); }
export async function run(p: Context) {
  const server = withCancel(p);
  await serve(server);
}`),
      errors: [{ messageId: "lost", line: 4, suggestions: 1 }],
    },
    {
      // Thrown away.
      ...code(`export function f(p: Context) { withTimeout(p, 10); }`),
      errors: [{ messageId: "discarded" }],
    },
    {
      // Made where it is used: nothing can cancel it.
      ...code(`export async function f(p: Context) { await sleep(withTimeout(p, 10), 5); }`),
      errors: [{ messageId: "inline" }],
    },
    {
      ...code(
        `export function f(p: Context) { const { signal } = withTimeout(p, 10); return signal; }`,
      ),
      errors: [{ messageId: "inline" }],
    },
    {
      // Renamed import and a Cause form.
      ...code(`import { withDeadline as until } from "timebound";
export async function f(p: Context, at: number) {
  const ctx = until(p, at);
  const other = withTimeoutCause(p, 5, new Error("slow"));
  await sleep(ctx, 1);
  await sleep(other, 1);
}`),
      errors: [
        { messageId: "lost", line: 4, suggestions: 1 },
        { messageId: "lost", line: 5, suggestions: 1 },
      ],
    },
    {
      // Self-lint counterpart: a parent that is only handed on (stored) does not cover its
      // child: per-call children under a long-lived parent are the seed's leak.
      ...code(`export class S {
  server: Context | undefined;
  async handle(p: Context) {
    const server = withCancel(p);
    this.server = server;
    const request = withTimeout(server, 10);
    await sleep(request, 1);
  }
}`),
      errors: [{ messageId: "lost", line: 7, suggestions: 1 }],
    },
    {
      // A parent cancelled on one path only covers its child on that path.
      ...code(`export async function f(p: Context, x: boolean) {
  const parent = withCancel(p);
  const child = withTimeout(parent, 10);
  await sleep(child, 1);
  if (x) parent.cancel();
}`),
      errors: [
        { messageId: "lostOnPath", line: 3, suggestions: 1 },
        { messageId: "lostOnPath", line: 4, suggestions: 1 },
      ],
    },
    {
      // A callback's child under the outer function's `using` parent: one per call, each kept
      // until the parent ends.
      ...code(`export async function f(p: Context, ids: string[]) {
  using parent = withTimeout(p, 100);
  await Promise.all(ids.map(async () => {
    const child = withTimeout(parent, 10);
    await sleep(child, 1);
  }));
}`),
      errors: [{ messageId: "lost", line: 5, suggestions: 1 }],
    },
    {
      // A `let` that is assigned again gets no `using` suggestion.
      ...code(`export async function f(p: Context) {
  let ctx = withTimeout(p, 10);
  await sleep(ctx, 1);
  ctx = withTimeout(p, 20);
  await sleep(ctx, 1);
}`),
      errors: [{ messageId: "lost", line: 3, suggestions: 0 }],
    },
  ],
});
