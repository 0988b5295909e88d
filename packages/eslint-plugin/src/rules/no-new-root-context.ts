import type { TSESLint } from "@typescript-eslint/utils";
import { createRule } from "../util/create-rule.js";
import {
  ROOT_FACTORIES,
  SOURCES_SCHEMA,
  sourcePatterns,
  timeboundFunction,
} from "../util/timebound-calls.js";
import { contextInScope, typeServices } from "../util/types.js";

type Options = [{ sources?: string[] }];
type MessageIds = "newRoot" | "useScope";

export const noNewRootContext = createRule<Options, MessageIds>({
  name: "no-new-root-context",
  meta: {
    type: "problem",
    docs: {
      description: "Disallow background()/todo() where a context is already in scope",
      recommended: true,
      requiresTypeChecking: true,
    },
    hasSuggestions: true,
    schema: [
      {
        type: "object",
        properties: { sources: SOURCES_SCHEMA },
        additionalProperties: false,
      },
    ],
    messages: {
      newRoot:
        "{{factory}}() starts a new root where the context `{{ctx}}` is in scope: the chain breaks here, and `{{ctx}}`'s deadline and cancel never reach this work. Derive from `{{ctx}}` (or `withoutCancel({{ctx}})` to outlive it on purpose).",
      useScope: "Use `{{ctx}}` instead of {{factory}}().",
    },
  },
  defaultOptions: [{}],
  create(context, [options]) {
    const services = typeServices(context);
    if (services === undefined) return {};
    const sources = sourcePatterns(options.sources);
    const contextVariables = new Map<TSESLint.Scope.Variable, boolean>();
    return {
      CallExpression(node) {
        const factory = timeboundFunction(context, node, sources);
        if (factory === undefined || !ROOT_FACTORIES.has(factory)) return;
        const ctx = contextInScope(context, services, node, contextVariables);
        if (ctx === undefined) return;
        context.report({
          node,
          messageId: "newRoot",
          data: { factory, ctx },
          suggest: [
            {
              messageId: "useScope",
              data: { factory, ctx },
              fix: (fixer) => fixer.replaceText(node, ctx),
            },
          ],
        });
      },
    };
  },
});
