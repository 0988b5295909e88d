import { TSESTree } from "@typescript-eslint/utils";
import { createRule } from "../util/create-rule.js";
import { isContextNode, typeServices } from "../util/types.js";

const T = TSESTree.AST_NODE_TYPES;

type FunctionNode =
  | TSESTree.FunctionDeclaration
  | TSESTree.FunctionExpression
  | TSESTree.ArrowFunctionExpression
  | TSESTree.TSDeclareFunction
  | TSESTree.TSEmptyBodyFunctionExpression;

type MessageIds = "contextFirst";

export const contextFirst = createRule<[], MessageIds>({
  name: "context-first",
  meta: {
    type: "suggestion",
    docs: {
      description: "Require exported functions that take a context to take it first",
      requiresTypeChecking: true,
    },
    schema: [],
    messages: {
      contextFirst:
        "`{{fn}}` takes its context `{{param}}` as parameter {{position}}: take it first, as Go's convention and timebound's adapters do (`fetch(ctx, url)`, `query(ctx, pool, sql)`).",
    },
  },
  defaultOptions: [],
  create(context) {
    const found = typeServices(context);
    if (found === undefined) return {};
    const services = found;

    function check(fn: FunctionNode, name: string): void {
      const params = fn.params.filter((p) => !(p.type === T.Identifier && p.name === "this"));
      const typed = params.map((p) => (p.type === T.AssignmentPattern ? p.left : p));
      const first = typed[0];
      if (first === undefined || isContextNode(services, first)) return;
      typed.forEach((param, index) => {
        if (index === 0 || param.type === T.RestElement || !isContextNode(services, param)) return;
        context.report({
          node: param,
          messageId: "contextFirst",
          data: {
            fn: name,
            param: param.type === T.Identifier ? param.name : "…",
            position: index + 1,
          },
        });
      });
    }

    return {
      "ExportNamedDeclaration > FunctionDeclaration, ExportDefaultDeclaration > FunctionDeclaration, ExportNamedDeclaration > TSDeclareFunction"(
        node: TSESTree.FunctionDeclaration | TSESTree.TSDeclareFunction,
      ) {
        check(node, node.id?.name ?? "default");
      },
      "ExportNamedDeclaration > VariableDeclaration > VariableDeclarator"(
        node: TSESTree.VariableDeclarator,
      ) {
        const init = node.init;
        if (
          node.id.type === T.Identifier &&
          (init?.type === T.ArrowFunctionExpression || init?.type === T.FunctionExpression)
        ) {
          check(init, node.id.name);
        }
      },
      "ExportNamedDeclaration > ClassDeclaration > ClassBody > MethodDefinition, ExportDefaultDeclaration > ClassDeclaration > ClassBody > MethodDefinition"(
        node: TSESTree.MethodDefinition,
      ) {
        if (node.accessibility === "private" || node.key.type === T.PrivateIdentifier) return;
        if (node.kind !== "method") return;
        const key = node.key.type === T.Identifier ? node.key.name : "method";
        check(node.value, key);
      },
    };
  },
});
