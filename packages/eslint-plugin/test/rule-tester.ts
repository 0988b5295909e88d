import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { TSESLint } from "@typescript-eslint/utils";
import { type Rule, RuleTester } from "eslint";
import tseslint from "typescript-eslint";

// ESLint's RuleTester declares its cases through these; node:test runs them.
RuleTester.describe = describe;
RuleTester.it = it;
RuleTester.itOnly = it.only;

/** The project RuleTester's cases are parsed in: `timebound` resolves to this repo's sources. */
const TYPED = fileURLToPath(new URL("fixtures/typed/", import.meta.url));

/** Where each case is parsed from (the project lists this file). */
export const CASE_FILE = `${TYPED}file.ts`;

/** A RuleTester that parses TypeScript with type information. */
export function typedRuleTester(): RuleTester {
  return new RuleTester({
    languageOptions: {
      parser: tseslint.parser,
      // Under CI=true typescript-eslint would build one program for the whole run ("single
      // run"), and every case after the first would be typed against the first case's code.
      parserOptions: {
        project: "./tsconfig.json",
        tsconfigRootDir: TYPED,
        disallowAutomaticSingleRunInference: true,
      },
    },
  });
}

/** typescript-eslint's rule type, seen as ESLint's (the same object at run time). */
export function asEslintRule(
  rule: TSESLint.RuleModule<string, readonly unknown[]>,
): Rule.RuleModule {
  return rule as unknown as Rule.RuleModule;
}
