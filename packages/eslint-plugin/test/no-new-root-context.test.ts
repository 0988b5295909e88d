import { noNewRootContext } from "../src/rules/no-new-root-context.js";
import { CASE_FILE, asEslintRule, typedRuleTester } from "./rule-tester.js";

const IMPORTS = `import { type Context, background, sleep, todo, withTimeout, withoutCancel } from "timebound";\n`;

function code(body: string): { code: string; filename: string } {
  return { code: IMPORTS + body, filename: CASE_FILE };
}

typedRuleTester().run("no-new-root-context", asEslintRule(noNewRootContext), {
  valid: [
    // The root of the process, made once at the top.
    code(`export const root = background();`),
    // No context in scope: a root is where one starts.
    code(
      `export async function main() { using ctx = withTimeout(background(), 500); await sleep(ctx, 1); }`,
    ),
    // A context's own initializer is not yet in scope.
    code(`export function f() { const ctx = withTimeout(background(), 5); return ctx; }`),
    // Self-lint (src/lab's harnesses, bench/io): beside a context the function made from a root
    // itself, another root breaks no caller's chain (here: a wait that must outlast ctx).
    code(`export async function measure(ms: number) {
      const ctx = withTimeout(background(), ms);
      const pending = sleep(ctx, ms * 2);
      await sleep(background(), ms * 2);
      ctx.cancel();
      return pending;
    }`),
    code(`export async function bench(ms: number) {
      using ctx = withTimeout(background(), 600_000);
      const child = withTimeout(ctx, ms);
      await Promise.all([1, 2].map(() => sleep(background(), ms)));
      child.cancel();
    }`),
    // Outliving the caller on purpose, with its values kept.
    code(`export function f(ctx: Context) { return withoutCancel(ctx); }`),
    // Not timebound's background().
    {
      code: `import type { Context } from "timebound";
    function background() { return 1; }
    export function f(ctx: Context) { return background() + (ctx.err ? 1 : 0); }`,
      filename: CASE_FILE,
    },
  ],
  invalid: [
    {
      // The seed's context from nowhere: the handler's deadline never reaches the query.
      ...code(`export async function handler(ctx: Context) {
  await sleep(background(), 100);
}`),
      errors: [
        {
          messageId: "newRoot",
          line: 3,
          data: { factory: "background", ctx: "ctx" },
          suggestions: [
            {
              messageId: "useScope",
              output:
                IMPORTS +
                `export async function handler(ctx: Context) {\n  await sleep(ctx, 100);\n}`,
            },
          ],
        },
      ],
    },
    {
      // todo() too, from a nested callback, and a derived context in scope.
      ...code(`export async function handler(p: Context, ids: string[]) {
  using request = withTimeout(p, 500);
  await Promise.all(ids.map(() => sleep(withTimeout(todo(), 10), 1)));
  return request.err;
}`),
      errors: [
        {
          messageId: "newRoot",
          line: 4,
          data: { factory: "todo", ctx: "request" },
          suggestions: 1,
        },
      ],
    },
    {
      // A local root does not hide the caller's context further out.
      ...code(`export async function handler(request: Context) {
  await Promise.all([1, 2].map(async () => {
    using ctx = withTimeout(background(), 50);
    await sleep(todo(), 1);
    return ctx.err;
  }));
}`),
      errors: [
        {
          messageId: "newRoot",
          line: 4,
          data: { factory: "background", ctx: "request" },
          suggestions: 1,
        },
        {
          messageId: "newRoot",
          line: 5,
          data: { factory: "todo", ctx: "request" },
          suggestions: 1,
        },
      ],
    },
    {
      // A namespace import, and a context as an optional parameter.
      ...code(`import * as tb from "timebound";
export function handler(x: number, ctx?: Context) { return tb.withTimeout(tb.background(), x); }`),
      errors: [
        { messageId: "newRoot", data: { factory: "background", ctx: "ctx" }, suggestions: 1 },
      ],
    },
  ],
});
