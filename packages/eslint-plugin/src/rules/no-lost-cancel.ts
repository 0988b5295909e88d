import { ASTUtils, TSESLint, TSESTree } from "@typescript-eslint/utils";
import type * as ts from "typescript";
import { createRule } from "../util/create-rule.js";
import { type PathState, trackCodePaths, uncoveredExit } from "../util/code-path.js";
import {
  CANCELABLE_FACTORIES,
  SOURCES_SCHEMA,
  sourcePatterns,
  timeboundFunction,
} from "../util/timebound-calls.js";
import { canCancel, typeServices } from "../util/types.js";

type Options = [{ sources?: string[] }];
type MessageIds = "lost" | "lostOnPath" | "discarded" | "inline" | "useUsing";

const T = TSESTree.AST_NODE_TYPES;

/** Calls that keep their argument: handing a context to one of these passes the duty to cancel. */
const KEEPING_METHODS: ReadonlySet<string> = new Set([
  "push",
  "unshift",
  "add",
  "set",
  "use",
  "adopt",
  "resolve",
]);

type FunctionNode =
  TSESTree.FunctionDeclaration | TSESTree.FunctionExpression | TSESTree.ArrowFunctionExpression;

/** One context kept in a variable, followed until its function's code path ends. */
interface Tracked {
  readonly name: string;
  readonly factory: string;
  readonly declarator: TSESTree.VariableDeclarator;
  readonly start: TSESLint.CodePathSegment[];
  /** The calls that cancel it (`ctx.cancel()`, `ctx[Symbol.dispose]()`, a local `stop()`). */
  readonly cancels: ReadonlySet<TSESTree.CallExpression>;
  /** Segments in which one of them runs. */
  readonly covered: Set<string>;
}

export const noLostCancel = createRule<Options, MessageIds>({
  name: "no-lost-cancel",
  meta: {
    type: "problem",
    docs: {
      description:
        "Require every context from withCancel/withTimeout/withDeadline (and their Cause forms) to be cancelled on every path, declared with `using`, or handed on",
      recommended: true,
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
      lost: "`{{name}}` from {{factory}}() is never cancelled: its timer and its link under the parent stay until the deadline passes (forever without one). Declare it with `using`, or cancel it on every path.",
      lostOnPath:
        "`{{name}}` from {{factory}}() is not cancelled on the path that {{exit}}. Declare it with `using` (it cancels however the block is left), or cancel it in `finally`.",
      discarded:
        "The context from {{factory}}() is thrown away: nothing can cancel it, so it stays linked until its deadline. Keep it: `using ctx = {{factory}}(...)`.",
      inline:
        "The context from {{factory}}() is made where it is used and never cancelled: declare it first (`using ctx = {{factory}}(...)`) and pass `ctx`.",
      useUsing:
        "Declare `{{name}}` with `using`: it is cancelled when the block is left (await what uses it before returning).",
    },
  },
  defaultOptions: [{}],
  create(context, [options]) {
    const sources = sourcePatterns(options.sources);
    const services = typeServices(context);
    const tracked = new Map<PathState, Tracked[]>();
    const cancelOwners = new Map<TSESTree.CallExpression, Tracked[]>();
    /** Tracked contexts by variable: a context derived from one is cancelled with it. */
    const parents = new Map<
      TSESLint.Scope.Variable,
      { owner: FunctionNode; cancels: ReadonlySet<TSESTree.CallExpression> }
    >();

    const { listener, top } = trackCodePaths((state, node) => {
      for (const t of tracked.get(state) ?? []) reportIfLost(t, state, node);
      tracked.delete(state);
    });

    function reportIfLost(t: Tracked, state: PathState, fn: TSESTree.Node): void {
      const exit = uncoveredExit(t.start, t.covered);
      if (exit === undefined) return;
      const suggest = usingSuggestion(t);
      const data = { name: t.name, factory: t.factory };
      if (t.cancels.size === 0) {
        context.report({ node: t.declarator, messageId: "lost", data, suggest });
        return;
      }
      const statement = state.exits.get(exit.id);
      const line = statement?.loc.start.line ?? fn.loc.end.line;
      const how =
        statement?.type === T.ThrowStatement
          ? `throws at line ${line}`
          : statement?.type === T.ReturnStatement
            ? `returns at line ${line}`
            : `reaches the end of the function (line ${line})`;
      context.report({
        node: t.declarator,
        messageId: "lostOnPath",
        data: { ...data, exit: how },
        suggest,
      });
    }

    function usingSuggestion(t: Tracked): TSESLint.SuggestionReportDescriptor<MessageIds>[] {
      const declaration = t.declarator.parent;
      if (
        declaration.type !== T.VariableDeclaration ||
        (declaration.kind !== "const" && declaration.kind !== "let") ||
        declaration.declarations.length !== 1 ||
        declaration.parent.type !== T.BlockStatement
      ) {
        return [];
      }
      const variable = declaredVariable(t.declarator);
      if (variable === undefined || variable.references.some((r) => r.isWrite() && !r.init)) {
        return [];
      }
      const keyword = context.sourceCode.getFirstToken(declaration);
      if (keyword === null) return [];
      return [
        {
          messageId: "useUsing",
          data: { name: t.name },
          fix: (fixer) => fixer.replaceText(keyword, "using"),
        },
      ];
    }

    function declaredVariable(
      declarator: TSESTree.VariableDeclarator,
    ): TSESLint.Scope.Variable | undefined {
      return context.sourceCode.getDeclaredVariables(declarator)[0];
    }

    /**
     * Follows the context's references: the cancel calls made in `owner` itself, and whether it
     * is handed on (returned, stored, cancelled by a callback…).
     */
    function followReferences(
      declarator: TSESTree.VariableDeclarator,
      owner: FunctionNode,
    ): { cancels: Set<TSESTree.CallExpression>; handedOn: boolean } {
      const cancels = new Set<TSESTree.CallExpression>();
      let handedOn = false;
      const variables = [declaredVariable(declarator)];
      for (let variable = variables.pop(); variable !== undefined; variable = variables.pop()) {
        for (const reference of variable.references) {
          if (reference.init === true) continue;
          const use = classifyUse(reference.identifier, owner);
          if (use.kind === "handedOn") handedOn = true;
          if (use.kind === "cancel") cancels.add(use.call);
          if (use.kind === "alias") variables.push(use.variable);
        }
      }
      return { cancels, handedOn };
    }

    type Use =
      | { kind: "handedOn" }
      | { kind: "cancel"; call: TSESTree.CallExpression }
      | { kind: "alias"; variable: TSESLint.Scope.Variable }
      | { kind: "used" };

    function classifyUse(id: TSESTree.Node, owner: FunctionNode): Use {
      const use = classifyOne(id, owner);
      // A cancel that runs in a callback runs when someone else decides: it is handed on.
      if (use.kind === "cancel" && enclosingFunction(use.call) !== owner)
        return { kind: "handedOn" };
      return use;
    }

    function classifyOne(id: TSESTree.Node, owner: FunctionNode): Use {
      const node = unwrap(id);
      const parent = parentOf(node);
      if (parent === undefined) return { kind: "used" };
      if (parent.type === T.MemberExpression && parent.object === node && isCancelMember(parent)) {
        const inner = enclosingFunction(parent);
        if (inner !== owner) return cancellerUse(inner, owner);
        const call = parent.parent;
        if (call.type === T.CallExpression && call.callee === parent)
          return { kind: "cancel", call };
        return { kind: "handedOn" }; // `afterFunc(x, ctx.cancel)`, `const stop = ctx.cancel.bind(ctx)`
      }
      return keptBy(node, parent);
    }

    /** `ctx.cancel` inside a nested function: a local `stop` whose calls cancel, or handed on. */
    function cancellerUse(inner: FunctionNode | undefined, owner: FunctionNode): Use {
      let fn = inner;
      while (fn !== undefined && enclosingFunction(fn) !== owner) fn = enclosingFunction(fn);
      if (fn?.parent.type !== T.VariableDeclarator || fn.parent.id.type !== T.Identifier) {
        return { kind: "handedOn" }; // a callback: `res.on("close", () => ctx.cancel())`
      }
      const stop = declaredVariable(fn.parent);
      // Treated as an alias whose calls cancel: see `stopCalls`.
      return stop === undefined ? { kind: "handedOn" } : { kind: "alias", variable: stop };
    }

    function keptBy(node: TSESTree.Node, parent: TSESTree.Node): Use {
      switch (parent.type) {
        case T.ReturnStatement:
        case T.YieldExpression:
        case T.Property:
        case T.ArrayExpression:
        case T.NewExpression:
        case T.SpreadElement:
          return { kind: "handedOn" };
        case T.ArrowFunctionExpression:
          return parent.body === node ? { kind: "handedOn" } : { kind: "used" };
        case T.AssignmentExpression:
          return parent.right === node ? { kind: "handedOn" } : { kind: "used" };
        case T.VariableDeclarator: {
          if (parent.init !== node || parent.id.type !== T.Identifier) return { kind: "used" };
          const alias = declaredVariable(parent);
          return alias === undefined ? { kind: "used" } : { kind: "alias", variable: alias };
        }
        case T.CallExpression: {
          if (parent.callee === node) {
            // A call of a local canceller (`stop()`).
            return { kind: "cancel", call: parent };
          }
          return keepingCall(parent) || receivesCancel(node)
            ? { kind: "handedOn" }
            : { kind: "used" };
        }
        default:
          return { kind: "used" };
      }
    }

    /**
     * With type information: true when `argument` goes to a parameter that can cancel it
     * (`serve(server: CancelableContext)`): the callee owns the cancel. A parameter typed
     * `Context` only uses it.
     */
    function receivesCancel(argument: TSESTree.Node): boolean {
      if (services === undefined) return false;
      const tsNode = services.esTreeNodeToTSNodeMap.get(argument);
      const type = services.program.getTypeChecker().getContextualType(tsNode as ts.Expression);
      return type !== undefined && canCancel(type);
    }

    return {
      ...listener,
      CallExpression(node: TSESTree.CallExpression) {
        const owners = cancelOwners.get(node);
        const state = top();
        if (owners !== undefined && state !== undefined) {
          for (const t of owners) for (const segment of state.current) t.covered.add(segment.id);
        }
        const factory = timeboundFunction(context, node, sources);
        if (factory === undefined || !CANCELABLE_FACTORIES.has(factory)) return;
        const site = choiceOf(unwrap(node));
        const parent = parentOf(site);
        if (parent === undefined) return;
        if (parent.type === T.ExpressionStatement) {
          context.report({ node, messageId: "discarded", data: { factory } });
          return;
        }
        if (parent.type === T.VariableDeclarator && parent.init === site) {
          track(node, parent, factory);
          return;
        }
        if (keptBy(site, parent).kind === "handedOn" || cancelledAtOnce(site, parent)) return;
        context.report({ node, messageId: "inline", data: { factory } });
      },
    } as unknown as TSESLint.RuleListener; // the code path listeners are not in the listener type

    function track(
      call: TSESTree.CallExpression,
      declarator: TSESTree.VariableDeclarator,
      factory: string,
    ): void {
      const declaration = declarator.parent;
      if (declaration.type === T.VariableDeclaration && declaration.kind.includes("using")) return;
      const state = top();
      const owner = enclosingFunction(call);
      if (state === undefined || owner === undefined) return; // module level: a process-wide root
      if (declarator.id.type !== T.Identifier) {
        context.report({ node: declarator, messageId: "inline", data: { factory } });
        return;
      }
      const parentCancels = parentCover(call, declarator, owner);
      if (parentCancels === null) return; // under a `using` parent: cancelled with it
      const { cancels, handedOn } = followReferences(declarator, owner);
      // Cancelling a parent ends its children: the parent's cancels cover the child too.
      for (const cancel of parentCancels) cancels.add(cancel);
      const variable = declaredVariable(declarator);
      // Kept even when handed on: a cancel of its own on every path still covers its children.
      if (variable !== undefined) parents.set(variable, { owner, cancels });
      if (handedOn) return;
      const t: Tracked = {
        name: declarator.id.name,
        factory,
        declarator,
        start: [...state.current],
        cancels,
        covered: new Set(),
      };
      for (const cancel of cancels)
        cancelOwners.set(cancel, [...(cancelOwners.get(cancel) ?? []), t]);
      tracked.set(state, [...(tracked.get(state) ?? []), t]);
    }

    /**
     * The cancels of the context `call` derives from, when that parent is a context of the same
     * function (the ones it makes itself); an empty set if it is not one, null if it is declared with
     * `using` in a block that holds `declarator` (it is disposed, and the child with it, on
     * every way out of that block).
     */
    function parentCover(
      call: TSESTree.CallExpression,
      declarator: TSESTree.VariableDeclarator,
      owner: FunctionNode,
    ): ReadonlySet<TSESTree.CallExpression> | null {
      const arg = call.arguments[0];
      if (arg?.type !== T.Identifier) return new Set();
      const variable = ASTUtils.findVariable(context.sourceCode.getScope(arg), arg);
      if (variable === null) return new Set();
      const known = parents.get(variable);
      if (known !== undefined) return known.owner === owner ? known.cancels : new Set();
      const def = variable.defs[0];
      if (
        def?.type === TSESLint.Scope.DefinitionType.Variable &&
        def.parent.kind.includes("using") &&
        def.node.init?.type === T.CallExpression &&
        CANCELABLE_FACTORIES.has(timeboundFunction(context, def.node.init, sources) ?? "") &&
        enclosingFunction(def.node) === owner &&
        def.parent.parent.range[0] <= declarator.range[0] &&
        declarator.range[1] <= def.parent.parent.range[1]
      ) {
        return null;
      }
      return new Set();
    }
  },
});

/** Steps out of `x as T`, `x!` and `x satisfies T`, which change nothing at run time. */
function unwrap(node: TSESTree.Node): TSESTree.Node {
  let current = node;
  for (let parent = parentOf(current); parent !== undefined; parent = parentOf(current)) {
    if (
      parent.type !== T.TSAsExpression &&
      parent.type !== T.TSNonNullExpression &&
      parent.type !== T.TSSatisfiesExpression &&
      parent.type !== T.ChainExpression
    ) {
      break;
    }
    current = parent;
  }
  return current;
}

/** The parent, or undefined at the top (where ESLint sets `null`, not `undefined`). */
function parentOf(node: TSESTree.Node): TSESTree.Node | undefined {
  return node.parent ?? undefined;
}

/** `a ? withTimeout(...) : withCancel(...)`, `x ?? withCancel(...)`: the whole choice is kept. */
function choiceOf(node: TSESTree.Node): TSESTree.Node {
  let current = node;
  for (let parent = parentOf(current); parent !== undefined; parent = parentOf(current)) {
    const chosen =
      (parent.type === T.ConditionalExpression && parent.test !== current) ||
      parent.type === T.LogicalExpression;
    if (!chosen) break;
    current = unwrap(parent);
  }
  return current;
}

/** `.cancel` or `[Symbol.dispose]`. */
function isCancelMember(member: TSESTree.MemberExpression): boolean {
  if (!member.computed) {
    return member.property.type === T.Identifier && member.property.name === "cancel";
  }
  const key = member.property;
  return (
    key.type === T.MemberExpression &&
    key.object.type === T.Identifier &&
    key.object.name === "Symbol" &&
    ASTUtils.getPropertyName(key) === "dispose"
  );
}

/** `withCancel(p).cancel()`: made and cancelled in one expression (a benchmark's loop). */
function cancelledAtOnce(site: TSESTree.Node, parent: TSESTree.Node): boolean {
  return (
    parent.type === T.MemberExpression &&
    parent.object === site &&
    isCancelMember(parent) &&
    parent.parent.type === T.CallExpression &&
    parent.parent.callee === parent
  );
}

/** `list.push(ctx)`, `stack.use(ctx)`, `resolve(ctx)`: the callee keeps what it is given. */
function keepingCall(call: TSESTree.CallExpression): boolean {
  const callee = call.callee;
  if (callee.type === T.Identifier) return callee.name === "resolve";
  return (
    callee.type === T.MemberExpression &&
    !callee.computed &&
    callee.property.type === T.Identifier &&
    KEEPING_METHODS.has(callee.property.name)
  );
}

function enclosingFunction(node: TSESTree.Node): FunctionNode | undefined {
  for (let current = parentOf(node); current !== undefined; current = parentOf(current)) {
    if (
      current.type === T.FunctionDeclaration ||
      current.type === T.FunctionExpression ||
      current.type === T.ArrowFunctionExpression
    ) {
      return current;
    }
  }
  return undefined;
}
