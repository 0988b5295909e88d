import { RuleTester } from "eslint";
import { contextFirst } from "../src/rules/context-first.js";
import { contextPropagation } from "../src/rules/context-propagation.js";
import { noLostCancel } from "../src/rules/no-lost-cancel.js";
import { noNewRootContext } from "../src/rules/no-new-root-context.js";
import { asEslintRule } from "./rule-tester.js";

// Plain JavaScript under ESLint's own parser, as in a .mjs file of a typed project: the rules that
// need types stay silent instead of failing the run, and no-lost-cancel still works.
const tester = new RuleTester({ languageOptions: { ecmaVersion: "latest", sourceType: "module" } });

const HANDLER = `import { background, withTimeout, sleep } from "timebound";
export async function handler(ctx, url) {
  const res = await fetch(url);
  await sleep(background(), 5);
  return res;
}
export function get(url, ctx) { return fetch(url, { signal: ctx.signal }); }`;

for (const [name, rule] of [
  ["context-propagation", contextPropagation],
  ["no-new-root-context", noNewRootContext],
  ["context-first", contextFirst],
] as const) {
  tester.run(`${name} without type information`, asEslintRule(rule), {
    valid: [HANDLER],
    invalid: [],
  });
}

tester.run("no-lost-cancel without type information", asEslintRule(noLostCancel), {
  valid: [
    `import { withTimeout, sleep } from "timebound";
    export async function f(p) { const ctx = withTimeout(p, 5); try { await sleep(ctx, 1); } finally { ctx.cancel(); } }`,
  ],
  invalid: [
    {
      code: `import { withTimeout, sleep } from "timebound";
export async function f(p) { const ctx = withTimeout(p, 5); await sleep(ctx, 1); }`,
      errors: [{ messageId: "lost", suggestions: 1 }],
    },
  ],
});
