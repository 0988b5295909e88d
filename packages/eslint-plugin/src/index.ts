/**
 * eslint-plugin-timebound: lint rules that catch, in the editor, the timeout mistakes the seed
 * finds in production dumps: contexts never cancelled, I/O that never heard of the caller's
 * context, roots made from nowhere, and `Promise.race` timeouts that stop nothing.
 *
 * @example
 * ```js
 * // eslint.config.js
 * import tseslint from "typescript-eslint";
 * import timebound from "eslint-plugin-timebound";
 *
 * export default [...tseslint.configs.recommendedTypeChecked, timebound.configs.recommended];
 * ```
 * @module eslint-plugin-timebound
 */
import type { TSESLint } from "@typescript-eslint/utils";
import type { ESLint } from "eslint";
import { contextFirst } from "./rules/context-first.js";
import { contextPropagation } from "./rules/context-propagation.js";
import { noLostCancel } from "./rules/no-lost-cancel.js";
import { noNewRootContext } from "./rules/no-new-root-context.js";
import { noRaceTimeout } from "./rules/no-race-timeout.js";

export type { ApiSpec } from "./rules/context-propagation.js";
export { DEFAULT_APIS } from "./rules/context-propagation.js";

/** Every rule, by the name it has after `timebound/`. */
export const rules = {
  "context-first": contextFirst,
  "context-propagation": contextPropagation,
  "no-lost-cancel": noLostCancel,
  "no-new-root-context": noNewRootContext,
  "no-race-timeout": noRaceTimeout,
} satisfies Record<string, TSESLint.RuleModule<string, readonly unknown[]>>;

/** The rule names, with the plugin's prefix, each set to `level`. */
type RuleLevels = Partial<
  Record<`timebound/${keyof typeof rules}`, TSESLint.SharedConfig.RuleEntry>
>;

/** A flat config object of this plugin: its name, the plugin, and rule levels. */
export interface TimeboundConfig {
  readonly name: string;
  /**
   * Typed as ESLint's own `ESLint.Plugin`, so that the configs fit `Linter.Config` (what
   * `defineConfig` from `eslint/config` takes): typescript-eslint's rule types, which the rules
   * are written with, are not assignable to ESLint's. At run time it is the same object.
   */
  readonly plugins: { readonly timebound: ESLint.Plugin };
  readonly rules: RuleLevels;
}

const meta = { name: "eslint-plugin-timebound", version: "0.1.0" };

const plugin = { meta, rules } as unknown as ESLint.Plugin;

/**
 * `recommended`: the mistakes that leak or let work outlive its deadline, as errors.
 * `strict`: those, plus the context-first convention for exported functions.
 */
const RECOMMENDED: RuleLevels = {
  "timebound/no-lost-cancel": "error",
  "timebound/context-propagation": "error",
  "timebound/no-new-root-context": "error",
  "timebound/no-race-timeout": "error",
};

export const configs: { readonly recommended: TimeboundConfig; readonly strict: TimeboundConfig } =
  {
    recommended: {
      name: "timebound/recommended",
      plugins: { timebound: plugin },
      rules: RECOMMENDED,
    },
    strict: {
      name: "timebound/strict",
      plugins: { timebound: plugin },
      rules: { ...RECOMMENDED, "timebound/context-first": "error" },
    },
  };

/** The plugin: `meta`, `rules` and the `recommended` and `strict` flat configs. */
const timebound = { meta, rules, configs };
export default timebound;
