import { ASTUtils, TSESLint, TSESTree } from "@typescript-eslint/utils";

/** Where a called function came from: its module and the name it is exported under. */
export interface ImportedName {
  readonly source: string;
  readonly name: string;
}

type AnyContext = Readonly<TSESLint.RuleContext<string, readonly unknown[]>>;

/**
 * The module and exported name behind `callee`, when it is an imported binding (`withTimeout`,
 * `wt` from `import { withTimeout as wt }`) or a member of a namespace or default import
 * (`tb.withTimeout`, `childProcess.exec`); undefined for anything else.
 */
export function importedName(context: AnyContext, callee: TSESTree.Node): ImportedName | undefined {
  if (callee.type === TSESTree.AST_NODE_TYPES.Identifier) {
    const def = importDef(context, callee);
    if (def === undefined) return undefined;
    const spec = def.node;
    if (spec.type !== TSESTree.AST_NODE_TYPES.ImportSpecifier) {
      return spec.type === TSESTree.AST_NODE_TYPES.ImportDefaultSpecifier
        ? { source: def.source, name: "default" }
        : undefined;
    }
    const imported = spec.imported;
    const name =
      imported.type === TSESTree.AST_NODE_TYPES.Identifier ? imported.name : imported.value;
    return { source: def.source, name };
  }
  if (
    callee.type === TSESTree.AST_NODE_TYPES.MemberExpression &&
    !callee.computed &&
    callee.object.type === TSESTree.AST_NODE_TYPES.Identifier &&
    callee.property.type === TSESTree.AST_NODE_TYPES.Identifier
  ) {
    const def = importDef(context, callee.object);
    if (def === undefined || def.node.type === TSESTree.AST_NODE_TYPES.ImportSpecifier) {
      return undefined;
    }
    return { source: def.source, name: callee.property.name };
  }
  return undefined;
}

function importDef(
  context: AnyContext,
  id: TSESTree.Identifier,
): { node: TSESTree.ImportClause; source: string } | undefined {
  const variable = ASTUtils.findVariable(context.sourceCode.getScope(id), id);
  const def = variable?.defs[0];
  if (
    def?.type !== TSESLint.Scope.DefinitionType.ImportBinding ||
    def.parent.type !== TSESTree.AST_NODE_TYPES.ImportDeclaration
  ) {
    return undefined;
  }
  if (def.node.type === TSESTree.AST_NODE_TYPES.TSImportEqualsDeclaration) return undefined;
  return { node: def.node, source: def.parent.source.value };
}

/** True when `id` names a global (no declaration of the file's own shadows it). */
export function isGlobal(context: AnyContext, id: TSESTree.Identifier): boolean {
  const variable = ASTUtils.findVariable(context.sourceCode.getScope(id), id);
  return variable === null || variable.defs.length === 0;
}

/** `source` is `module` itself or its `node:` form, or a subpath of it (`timebound/http`). */
export function sourceMatches(source: string, patterns: readonly RegExp[]): boolean {
  return patterns.some((pattern) => pattern.test(source));
}
