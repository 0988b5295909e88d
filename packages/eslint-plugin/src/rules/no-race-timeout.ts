import {
  ASTUtils,
  type ParserServicesWithTypeInformation,
  TSESLint,
  TSESTree,
} from "@typescript-eslint/utils";
import { createRule } from "../util/create-rule.js";
import { importedName, isGlobal } from "../util/imports.js";
import { isContextNode, typeServices } from "../util/types.js";

const T = TSESTree.AST_NODE_TYPES;

/** Names of helpers that make a promise settle after a while: `delay(ms)`, `timeout(ms)`. */
const TIMER_HELPER = /^(sleep|delay|wait)$|timeout|timer/iu;

/** Methods that stop work: a context's cancel, a controller's abort, a socket's or child's end. */
const STOP_METHODS: ReadonlySet<string> = new Set(["cancel", "abort", "destroy", "kill"]);

type MessageIds = "raceTimeout";

export const noRaceTimeout = createRule<[], MessageIds>({
  name: "no-race-timeout",
  meta: {
    type: "problem",
    docs: {
      description:
        "Disallow Promise.race against a timer: a timeout that releases the caller and stops nothing",
      recommended: true,
    },
    schema: [],
    messages: {
      raceTimeout:
        "Promise.race with a timer releases the caller and stops nothing: the losing work runs on, holding its connection, query or child process. Make a context (`using ctx = withTimeout(parent, ms)`) and pass it (or `ctx.signal`) to the work, through timebound's adapters.",
    },
  },
  defaultOptions: [],
  create(context) {
    const services = typeServices(context);
    return {
      CallExpression(node) {
        if (!isPromiseRace(context, node.callee)) return;
        const list = node.arguments[0];
        if (list?.type !== T.ArrayExpression) return;
        const timer = list.elements.find(
          (element) => element !== null && isTimerPromise(context, element, 0),
        );
        if (timer === undefined || timer === null) return;
        if (stopsAfter(node) || containsStop(initializerOf(context, timer))) return;
        if (services !== undefined && isPause(services, node, timer)) return;
        context.report({ node, messageId: "raceTimeout" });
      },
    };
  },
});

type AnyContext = Readonly<TSESLint.RuleContext<string, readonly unknown[]>>;

function isPromiseRace(context: AnyContext, callee: TSESTree.Node): boolean {
  return (
    callee.type === T.MemberExpression &&
    callee.object.type === T.Identifier &&
    callee.object.name === "Promise" &&
    isGlobal(context, callee.object) &&
    ASTUtils.getPropertyName(callee) === "race"
  );
}

/**
 * A promise that settles after a while: `new Promise((…) => setTimeout(…))`, a call of
 * `setTimeout` from timers/promises or of a helper named like one (`delay(ms)`), or a variable
 * holding one of these (`const giveUp = new Promise(…)`, followed `depth` steps).
 */
function isTimerPromise(context: AnyContext, node: TSESTree.Node, depth: number): boolean {
  if (node.type === T.NewExpression) {
    return (
      node.callee.type === T.Identifier &&
      node.callee.name === "Promise" &&
      node.arguments.some((arg) => callsSetTimeout(context, arg))
    );
  }
  if (node.type === T.CallExpression) {
    const callee = node.callee;
    // `wait(ms).then(() => { throw … })`: the chain settles when the timer does.
    if (
      callee.type === T.MemberExpression &&
      /^(then|catch|finally)$/u.test(ASTUtils.getPropertyName(callee) ?? "")
    ) {
      return isTimerPromise(context, callee.object, depth);
    }
    const imported = importedName(context, node.callee);
    if (imported !== undefined && /^(node:)?timers\/promises$/u.test(imported.source)) return true;
    const name =
      node.callee.type === T.Identifier
        ? node.callee.name
        : node.callee.type === T.MemberExpression
          ? ASTUtils.getPropertyName(node.callee)
          : null;
    return name !== null && TIMER_HELPER.test(name);
  }
  if (node.type === T.Identifier && depth < 2) {
    const variable = ASTUtils.findVariable(context.sourceCode.getScope(node), node);
    const def = variable?.defs[0];
    if (def?.type !== TSESLint.Scope.DefinitionType.Variable || def.node.init === null)
      return false;
    return isTimerPromise(context, def.node.init, depth + 1);
  }
  return false;
}

/** True when `node`'s code calls `setTimeout` (the global or node:timers'). */
function callsSetTimeout(context: AnyContext, node: TSESTree.Node): boolean {
  const pending: TSESTree.Node[] = [node];
  for (let current = pending.pop(); current !== undefined; current = pending.pop()) {
    if (current.type === T.CallExpression && isSetTimeout(context, current.callee)) return true;
    pushChildren(current, pending);
  }
  return false;
}

function pushChildren(node: TSESTree.Node, pending: TSESTree.Node[]): void {
  for (const [key, value] of Object.entries(node)) {
    if (key === "parent") continue;
    for (const child of Array.isArray(value) ? value : [value]) {
      if (isNode(child)) pending.push(child);
    }
  }
}

function isSetTimeout(context: AnyContext, callee: TSESTree.Node): boolean {
  if (callee.type === T.Identifier && callee.name === "setTimeout") return true;
  const imported = importedName(context, callee);
  return imported?.name === "setTimeout";
}

function isNode(value: unknown): value is TSESTree.Node {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { type?: unknown }).type === "string"
  );
}

/**
 * The race's function stops something once the race has started: `controller.abort()` in the
 * timer or after the race, `root.cancel()` and `socket.destroy()` when a grace period runs out.
 * The timeout then ends the work; whether the work hears that stop is context-propagation's
 * question.
 */
function stopsAfter(race: TSESTree.CallExpression): boolean {
  let fn: TSESTree.Node | undefined = race.parent;
  while (
    fn !== undefined &&
    fn.type !== T.FunctionDeclaration &&
    fn.type !== T.FunctionExpression &&
    fn.type !== T.ArrowFunctionExpression &&
    fn.type !== T.Program
  ) {
    fn = fn.parent;
  }
  if (fn === undefined) return false;
  return containsStop(fn.type === T.Program ? fn : fn.body, race.range[0]);
}

/** Whether `root` holds a stop call (`x.abort()`, …) that starts after `from`. */
function containsStop(root: TSESTree.Node, from = -1): boolean {
  const pending: TSESTree.Node[] = [root];
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    if (
      node.type === T.CallExpression &&
      node.range[0] > from &&
      node.callee.type === T.MemberExpression &&
      STOP_METHODS.has(ASTUtils.getPropertyName(node.callee) ?? "")
    ) {
      return true;
    }
    pushChildren(node, pending);
  }
  return false;
}

/** `giveUp` in the race → the `new Promise(…)` it was initialised with; anything else itself. */
function initializerOf(context: AnyContext, node: TSESTree.Node): TSESTree.Node {
  if (node.type !== T.Identifier) return node;
  const def = ASTUtils.findVariable(context.sourceCode.getScope(node), node)?.defs[0];
  return def?.type === TSESLint.Scope.DefinitionType.Variable && def.node.init !== null
    ? def.node.init
    : node;
}

/**
 * `await Promise.race([changed, sleep(ctx, ms)])` as a statement: a pause until something
 * happens or a timer bound to a context ends, whose outcome nobody reads. It times nothing out.
 */
function isPause(
  services: ParserServicesWithTypeInformation,
  race: TSESTree.CallExpression,
  timer: TSESTree.Node,
): boolean {
  const statement = race.parent.type === T.AwaitExpression ? race.parent.parent : race.parent;
  const discarded =
    statement.type === T.ExpressionStatement ||
    (statement.type === T.UnaryExpression && statement.operator === "void");
  return (
    discarded &&
    timer.type === T.CallExpression &&
    timer.arguments.some((arg) => isContextNode(services, arg))
  );
}
