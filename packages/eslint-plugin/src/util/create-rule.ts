import { ESLintUtils } from "@typescript-eslint/utils";

/** Where each rule's page lives; ESLint shows it beside every report. */
const DOCS = "https://github.com/timebound/timebound/blob/main/packages/eslint-plugin/docs/rules";

/** Every rule of the plugin is made with this, so each one carries its docs link. */
export const createRule = ESLintUtils.RuleCreator<{
  recommended?: boolean;
  requiresTypeChecking?: boolean;
}>((name) => `${DOCS}/${name}.md`);
