import { contextFirst } from "../src/rules/context-first.js";
import { CASE_FILE, asEslintRule, typedRuleTester } from "./rule-tester.js";

const IMPORTS = `import type { CancelableContext, Context } from "timebound";\n`;

function code(body: string): { code: string; filename: string } {
  return { code: IMPORTS + body, filename: CASE_FILE };
}

typedRuleTester().run("context-first", asEslintRule(contextFirst), {
  valid: [
    code(`export function get(ctx: Context, url: string) { return url + String(ctx.err); }`),
    code(`export const get = (ctx: Context, url: string) => url + String(ctx.err);`),
    code(`export function link(parent: Context, child: Context) { return parent === child; }`),
    // Not exported: the convention is for APIs.
    code(`function get(url: string, ctx: Context) { return url + String(ctx.err); }
    export const used = get;`),
    // No context at all, and a `this` parameter that is not a parameter.
    code(`export function get(this: unknown, url: string) { return url; }`),
    code(
      `export function get(this: unknown, ctx: Context, url: string) { return url + String(ctx.err); }`,
    ),
    // Private methods of an exported class.
    code(
      `export class C { private run(url: string, ctx: Context) { return url + String(ctx.err); } }`,
    ),
  ],
  invalid: [
    {
      ...code(`export function get(url: string, ctx: Context) { return url + String(ctx.err); }`),
      errors: [{ messageId: "contextFirst", data: { fn: "get", param: "ctx", position: 2 } }],
    },
    {
      ...code(
        `export const get = async (url: string, retries = 1, ctx?: CancelableContext) => url + retries + String(ctx?.err);`,
      ),
      errors: [{ messageId: "contextFirst", data: { fn: "get", param: "ctx", position: 3 } }],
    },
    {
      ...code(
        `export default function (url: string, ctx: Context) { return url + String(ctx.err); }`,
      ),
      errors: [{ messageId: "contextFirst", data: { fn: "default", param: "ctx", position: 2 } }],
    },
    {
      ...code(
        `export class Client { get(url: string, ctx: Context) { return url + String(ctx.err); } }`,
      ),
      errors: [{ messageId: "contextFirst", data: { fn: "get", param: "ctx", position: 2 } }],
    },
  ],
});
