import {
  type ParserServicesWithTypeInformation,
  TSESLint,
  type TSESTree,
} from "@typescript-eslint/utils";
import type * as ts from "typescript";

type AnyContext = Readonly<TSESLint.RuleContext<string, readonly unknown[]>>;

/**
 * The type checker's services, or undefined when the file was parsed without type information
 * (a `.js` file outside the project, or a config without `projectService`): the typed rules then
 * stay silent rather than fail the whole run.
 */
export function typeServices(context: AnyContext): ParserServicesWithTypeInformation | undefined {
  // Not ESLintUtils.getParserServices: it throws under another parser (espree, for .mjs files).
  const services = context.sourceCode.parserServices;
  if (services?.program === undefined || services.program === null) return undefined;
  return services as ParserServicesWithTypeInformation;
}

/** What every timebound context has; matched by shape, so a copy of the types still counts. */
const CONTEXT_MEMBERS = ["signal", "done", "deadline", "remaining", "throwIfDone"] as const;

/** True when `type` (or one member of a union, as in `Context | undefined`) is a timebound context. */
export function isContextType(type: ts.Type): boolean {
  if (type.isUnion()) return type.types.some(isContextType);
  if (type.isIntersection()) return type.types.some(isContextType);
  return CONTEXT_MEMBERS.every((name) => type.getProperty(name) !== undefined);
}

/** True when `type` (or one member of a union) is a context its holder can cancel. */
export function canCancel(type: ts.Type): boolean {
  if (type.isUnion()) return type.types.some(canCancel);
  return isContextType(type) && type.getProperty("cancel") !== undefined;
}

/** True when `node`'s type is a timebound context. */
export function isContextNode(
  services: ParserServicesWithTypeInformation,
  node: TSESTree.Node,
): boolean {
  return isContextType(services.getTypeAtLocation(node));
}

/**
 * The name of a context the code at `node` can reach: a parameter or a variable of an enclosing
 * function or block, declared before `node` (the latest declared in the nearest scope). Module-level variables do not count: a module-wide
 * root is not the caller's context. `ignore` leaves out some of them. Undefined when there is none.
 */
export function contextInScope(
  context: AnyContext,
  services: ParserServicesWithTypeInformation,
  node: TSESTree.Node,
  cache: Map<TSESLint.Scope.Variable, boolean>,
  ignore?: (variable: TSESLint.Scope.Variable) => boolean,
): string | undefined {
  for (
    let scope: TSESLint.Scope.Scope | null = context.sourceCode.getScope(node);
    scope !== null;
    scope = scope.upper
  ) {
    if (
      scope.type === TSESLint.Scope.ScopeType.module ||
      scope.type === TSESLint.Scope.ScopeType.global
    )
      return undefined;
    // The latest one declared in the nearest scope: a derived context, not the one it came from.
    let found: { name: string; at: number } | undefined;
    for (const variable of scope.variables) {
      const def = variable.defs[0];
      if (
        def === undefined ||
        (def.type !== TSESLint.Scope.DefinitionType.Parameter &&
          def.type !== TSESLint.Scope.DefinitionType.Variable)
      )
        continue;
      if (def.name.range[0] > node.range[0]) continue;
      // `const ctx = withTimeout(background(), …)`: not in scope inside its own initializer.
      if (
        def.node.range[0] <= node.range[0] &&
        node.range[1] <= def.node.range[1] &&
        def.type === TSESLint.Scope.DefinitionType.Variable
      ) {
        continue;
      }
      let isContext = cache.get(variable);
      if (isContext === undefined) {
        isContext = isContextNode(services, def.name);
        cache.set(variable, isContext);
      }
      if (isContext && ignore?.(variable) === true) continue;
      if (isContext && (found === undefined || def.name.range[0] > found.at)) {
        found = { name: variable.name, at: def.name.range[0] };
      }
    }
    if (found !== undefined) return found.name;
  }
  return undefined;
}
