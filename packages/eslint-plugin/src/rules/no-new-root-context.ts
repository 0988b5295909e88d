import { ASTUtils, TSESLint, TSESTree } from "@typescript-eslint/utils";
import { createRule } from "../util/create-rule.js";
import {
  CANCELABLE_FACTORIES,
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
    const localRoots = new Map<TSESLint.Scope.Variable, boolean>();

    /**
     * A context this code made itself from a root (`withTimeout(background(), ms)`): no caller's
     * chain runs through it, so a second root beside it breaks nothing.
     */
    function isLocalRoot(variable: TSESLint.Scope.Variable): boolean {
      let known = localRoots.get(variable);
      if (known === undefined) {
        const def = variable.defs[0];
        known =
          def?.type === TSESLint.Scope.DefinitionType.Variable &&
          def.node.init !== null &&
          derivesFromRoot(def.node.init, 0);
        localRoots.set(variable, known);
      }
      return known;
    }

    function derivesFromRoot(node: TSESTree.Node, depth: number): boolean {
      if (depth > 4) return false;
      if (
        node.type === TSESTree.AST_NODE_TYPES.TSAsExpression ||
        node.type === TSESTree.AST_NODE_TYPES.TSNonNullExpression ||
        node.type === TSESTree.AST_NODE_TYPES.TSSatisfiesExpression
      ) {
        return derivesFromRoot(node.expression, depth + 1);
      }
      if (node.type === TSESTree.AST_NODE_TYPES.Identifier) {
        const variable = ASTUtils.findVariable(context.sourceCode.getScope(node), node);
        const def = variable?.defs[0];
        return (
          def?.type === TSESLint.Scope.DefinitionType.Variable &&
          def.node.init !== null &&
          derivesFromRoot(def.node.init, depth + 1)
        );
      }
      if (node.type !== TSESTree.AST_NODE_TYPES.CallExpression) return false;
      const factory = timeboundFunction(context, node, sources);
      if (factory === undefined) return false;
      if (ROOT_FACTORIES.has(factory)) return true;
      const parent = node.arguments[0];
      return (
        (CANCELABLE_FACTORIES.has(factory) || factory === "withValue") &&
        parent !== undefined &&
        derivesFromRoot(parent, depth + 1)
      );
    }

    return {
      CallExpression(node) {
        const factory = timeboundFunction(context, node, sources);
        if (factory === undefined || !ROOT_FACTORIES.has(factory)) return;
        const ctx = contextInScope(context, services, node, contextVariables, isLocalRoot);
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
