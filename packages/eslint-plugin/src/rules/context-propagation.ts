import {
  ASTUtils,
  type ParserServicesWithTypeInformation,
  TSESLint,
  TSESTree,
} from "@typescript-eslint/utils";
import type { JSONSchema4 } from "@typescript-eslint/utils/json-schema";
import type * as ts from "typescript";
import { createRule } from "../util/create-rule.js";
import { importedName, isGlobal } from "../util/imports.js";
import { contextInScope, isContextNode, typeServices } from "../util/types.js";

const T = TSESTree.AST_NODE_TYPES;

/**
 * One I/O API that can outlive a context, and what to use instead. Exactly one of `global`,
 * `module` + `names`, or `package` says which calls it covers.
 */
export interface ApiSpec {
  /** A global function (`"fetch"`, `"setTimeout"`) or a global's method (`"AbortSignal.timeout"`). */
  readonly global?: string;
  /** A module (its `node:` form matches too) whose exports `names` are covered: `"undici"`. */
  readonly module?: string;
  readonly names?: readonly string[];
  /** Methods of values whose types this package declares: `"pg"` with `methods: ["query"]`. */
  readonly package?: string;
  /** The method names; without it, every method declared in a file whose name has `declaredIn`. */
  readonly methods?: readonly string[];
  readonly declaredIn?: string;
  /**
   * Instead of where the method is declared: every method of a value whose type is, or extends,
   * the class or interface of this name declared in `package` (gRPC's generated clients extend
   * `Client`, and declare their methods in the user's code), but those in `except`.
   */
  readonly receiver?: string;
  readonly except?: readonly string[];
  /**
   * Fine inside the callback of `run(ctx, fn)`: the API can take the context `run` binds
   * (a gRPC client with `contextInterceptor` does).
   */
  readonly ambient?: boolean;
  /**
   * `"context"` (default): fine when an argument carries the context or its signal.
   * `"handle"`: fine when the result is kept (a timer whose handle can be cleared).
   */
  readonly unless?: "context" | "handle";
  /**
   * The index of the argument that holds the delay (timers): a call whose delay is `0` or left
   * out waits one turn of the event loop, and is not reported.
   */
  readonly delayArg?: number;
  /** What to call instead, named in the message: `"fetch(ctx, url, init) from timebound/http"`. */
  readonly use: string;
}

/** The APIs checked by default: the ones the seed and the lab show outliving their deadline. */
export const DEFAULT_APIS: readonly ApiSpec[] = [
  { global: "fetch", use: "fetch(ctx, url, init) from timebound/http" },
  {
    module: "undici",
    names: ["fetch", "request", "stream", "pipeline"],
    use: "fetch(ctx, url, init) from timebound/http (or `dispatcher: contextDispatcher(...)`)",
  },
  { package: "pg", methods: ["query"], use: "query(ctx, client, sql, values) from timebound/pg" },
  {
    package: "ioredis",
    declaredIn: "RedisCommander",
    use: 'command(ctx, client, "name", ...args) from timebound/redis (blpop/brpop for blocking pops)',
  },
  {
    package: "@grpc/grpc-js",
    receiver: "Client",
    except: ["close", "getChannel", "waitForReady"],
    ambient: true,
    use: 'unary(ctx, client, "method", request), serverStream, clientStream or bidiStream from timebound/grpc (or pass callOptions(ctx) as the call options)',
  },
  {
    module: "child_process",
    names: ["exec", "execFile", "spawn", "fork"],
    use: "exec/execFile/spawn(ctx, ...) from timebound/process (it stops the whole process group)",
  },
  // setImmediate is left out: one turn of the event loop is a yield, not a wait.
  {
    module: "timers/promises",
    names: ["setTimeout"],
    delayArg: 0,
    use: "sleep(ctx, ms) or ticker(ctx, ms) from timebound",
  },
  {
    module: "timers/promises",
    names: ["setInterval"],
    use: "sleep(ctx, ms) or ticker(ctx, ms) from timebound",
  },
  {
    global: "AbortSignal.timeout",
    use: "withTimeout(ctx, ms) from timebound (a deadline inside the tree: cleared when ctx ends, and its error says which deadline fired)",
  },
  {
    global: "setTimeout",
    unless: "handle",
    delayArg: 1,
    use: "sleep(ctx, ms) or afterFunc(ctx, fn) from timebound",
  },
  { global: "setInterval", unless: "handle", use: "ticker(ctx, ms) from timebound" },
  {
    module: "timers",
    names: ["setTimeout"],
    unless: "handle",
    delayArg: 1,
    use: "sleep(ctx, ms), afterFunc(ctx, fn) or ticker(ctx, ms) from timebound",
  },
  {
    module: "timers",
    names: ["setInterval"],
    unless: "handle",
    use: "sleep(ctx, ms), afterFunc(ctx, fn) or ticker(ctx, ms) from timebound",
  },
];

type Options = [{ apis?: ApiSpec[]; extraApis?: ApiSpec[] }];
type MessageIds = "withoutContext" | "handleDropped";

const API_SCHEMA: JSONSchema4 = {
  type: "object",
  properties: {
    global: { type: "string" },
    module: { type: "string" },
    names: { type: "array", items: { type: "string" } },
    package: { type: "string" },
    methods: { type: "array", items: { type: "string" } },
    declaredIn: { type: "string" },
    receiver: { type: "string" },
    except: { type: "array", items: { type: "string" } },
    ambient: { type: "boolean" },
    unless: { type: "string", enum: ["context", "handle"] },
    delayArg: { type: "integer", minimum: 0 },
    use: { type: "string" },
  },
  required: ["use"],
  additionalProperties: false,
};

export const contextPropagation = createRule<Options, MessageIds>({
  name: "context-propagation",
  meta: {
    type: "problem",
    docs: {
      description:
        "Require I/O calls made where a context is in scope to carry that context (or its signal)",
      recommended: true,
      requiresTypeChecking: true,
    },
    schema: [
      {
        type: "object",
        properties: {
          apis: { type: "array", items: API_SCHEMA, description: "Replaces the default list." },
          extraApis: {
            type: "array",
            items: API_SCHEMA,
            description: "Added to the default list.",
          },
        },
        additionalProperties: false,
      },
    ],
    messages: {
      withoutContext:
        "`{{call}}` is called without the context `{{ctx}}` in scope: when `{{ctx}}` ends, this keeps running. Use {{use}}, or pass `{{ctx}}.signal`.",
      handleDropped:
        "`{{call}}` drops its handle inside a function that has the context `{{ctx}}`: nothing stops it when `{{ctx}}` ends. Use {{use}}.",
    },
  },
  defaultOptions: [{}],
  create(context, [options]) {
    const services = typeServices(context);
    if (services === undefined) return {};
    const apis = [...(options.apis ?? DEFAULT_APIS), ...(options.extraApis ?? [])];
    const contextVariables = new Map<TSESLint.Scope.Variable, boolean>();

    return {
      CallExpression(node) {
        // Cheapest first: the callee's shape, then a context in scope, then the type checker.
        const candidates = apis.filter(
          (spec) =>
            calleeMatches(context, spec, node.callee) &&
            !yieldsOnly(spec, node) &&
            declaredName(services.program, spec, node.callee),
        );
        if (candidates.length === 0) return;
        const ctx = contextInScope(context, services, node, contextVariables);
        if (ctx === undefined) return;
        const api = candidates.find(
          (spec) => spec.package === undefined || declaredInPackage(services, spec, node.callee),
        );
        if (api === undefined) return;
        if (api.ambient === true && insideRun(services, node)) return;
        const handle = api.unless === "handle";
        if (handle ? !droppedResult(node) : carriesContext(context, services, node)) return;
        context.report({
          node,
          messageId: handle ? "handleDropped" : "withoutContext",
          data: { call: context.sourceCode.getText(node.callee), ctx, use: api.use },
        });
      },
    };
  },
});

type AnyContext = Readonly<TSESLint.RuleContext<string, readonly unknown[]>>;

/** Whether `callee` can be `spec`'s API, from the syntax and the scope alone. */
function calleeMatches(context: AnyContext, spec: ApiSpec, callee: TSESTree.Node): boolean {
  if (spec.global !== undefined) {
    const [object, property] = spec.global.split(".");
    if (property !== undefined) {
      // `AbortSignal.timeout`: a member of a global object.
      return (
        callee.type === T.MemberExpression &&
        !callee.computed &&
        callee.property.type === T.Identifier &&
        callee.property.name === property &&
        callee.object.type === T.Identifier &&
        callee.object.name === object &&
        isGlobal(context, callee.object)
      );
    }
    if (callee.type === T.Identifier) {
      return callee.name === spec.global && isGlobal(context, callee);
    }
    // `globalThis.fetch(url)`.
    return (
      callee.type === T.MemberExpression &&
      !callee.computed &&
      callee.property.type === T.Identifier &&
      callee.property.name === spec.global &&
      callee.object.type === T.Identifier &&
      callee.object.name === "globalThis" &&
      isGlobal(context, callee.object)
    );
  }
  if (spec.module !== undefined) {
    const imported = importedName(context, callee);
    if (imported === undefined) return false;
    const source = imported.source.replace(/^node:/u, "");
    return source === spec.module && (spec.names ?? []).includes(imported.name);
  }
  if (spec.package !== undefined) {
    if (callee.type !== T.MemberExpression || callee.property.type !== T.Identifier) return false;
    if (spec.except?.includes(callee.property.name) === true) return false;
    return spec.methods === undefined || spec.methods.includes(callee.property.name);
  }
  return false;
}

/** Inside the callback of `run(ctx, fn)` (or `x.run(ctx, fn)`), whose first argument is a context. */
function insideRun(services: ParserServicesWithTypeInformation, node: TSESTree.Node): boolean {
  for (
    let current: TSESTree.Node | undefined = node.parent;
    current !== undefined;
    current = current.parent ?? undefined
  ) {
    const fn = current;
    if (fn.type !== T.ArrowFunctionExpression && fn.type !== T.FunctionExpression) continue;
    const call = fn.parent;
    if (call.type !== T.CallExpression || !call.arguments.includes(fn)) continue;
    const name =
      call.callee.type === T.Identifier
        ? call.callee.name
        : call.callee.type === T.MemberExpression && call.callee.property.type === T.Identifier
          ? call.callee.property.name
          : undefined;
    const first = call.arguments[0];
    if (name === "run" && first !== undefined && isContextNode(services, first)) return true;
  }
  return false;
}

/** Per program: the method names each `declaredIn` spec's files declare. */
const declaredNames = new WeakMap<ts.Program, Map<ApiSpec, ReadonlySet<string>>>();

/**
 * For a spec that covers every method declared in some files (ioredis's commands): whether
 * `callee`'s name is one of them. Read once per program from those files' declarations, so that
 * most member calls are dismissed by name before the type checker is asked anything.
 */
function declaredName(program: ts.Program, spec: ApiSpec, callee: TSESTree.Node): boolean {
  if (spec.package === undefined || spec.methods !== undefined || spec.declaredIn === undefined) {
    return true;
  }
  if (callee.type !== T.MemberExpression || callee.property.type !== T.Identifier) return false;
  let bySpec = declaredNames.get(program);
  if (bySpec === undefined) {
    bySpec = new Map();
    declaredNames.set(program, bySpec);
  }
  let names = bySpec.get(spec);
  if (names === undefined) {
    const inPackage = new RegExp(`/node_modules/(@types/)?${escape(spec.package)}/`, "u");
    const found = new Set<string>();
    for (const file of program.getSourceFiles()) {
      if (!inPackage.test(file.fileName) || !file.fileName.includes(spec.declaredIn)) continue;
      collectMemberNames(file, found);
    }
    names = found;
    bySpec.set(spec, names);
  }
  return names.has(callee.property.name);
}

/** The names of the members of every interface and class declared in `node`, at any depth. */
function collectMemberNames(node: ts.Node, into: Set<string>): void {
  const members = (node as { members?: ts.NodeArray<ts.Node> }).members;
  if (members !== undefined) {
    for (const member of members) {
      const name = (member as { name?: ts.Node }).name;
      // An identifier's text; computed names are left out.
      const text = (name as { escapedText?: unknown } | undefined)?.escapedText;
      if (typeof text === "string") into.add(text);
    }
  }
  node.forEachChild((child) => collectMemberNames(child, into));
}

/** `setTimeout(fn, 0)`, `setTimeout(fn)`: a timer with no delay waits one turn, then is gone. */
function yieldsOnly(spec: ApiSpec, call: TSESTree.CallExpression): boolean {
  if (spec.delayArg === undefined) return false;
  const delay = call.arguments[spec.delayArg];
  return delay === undefined || (delay.type === T.Literal && delay.value === 0);
}

/** Whether the method `callee` calls is declared in `spec.package` (and `spec.declaredIn`). */
function declaredInPackage(
  services: ParserServicesWithTypeInformation,
  spec: ApiSpec,
  callee: TSESTree.Node,
): boolean {
  if (spec.package !== undefined) {
    if (callee.type !== T.MemberExpression || callee.property.type !== T.Identifier) return false;
    const inPackage = new RegExp(`/node_modules/(@types/)?${escape(spec.package)}/`, "u");
    if (spec.receiver !== undefined) {
      return derivesFrom(services.getTypeAtLocation(callee.object), spec.receiver, inPackage);
    }
    const symbol = services.getSymbolAtLocation(callee.property);
    const files = (symbol?.declarations ?? []).map((d) => d.getSourceFile().fileName);
    return files.some(
      (file) =>
        inPackage.test(file) && (spec.declaredIn === undefined || file.includes(spec.declaredIn)),
    );
  }
  return false;
}

/** `type`, a union member, or one of their base types is `name` as declared in a matching file. */
function derivesFrom(type: ts.Type, name: string, file: RegExp, depth = 0): boolean {
  if (depth > 8) return false;
  if (type.isUnion() || type.isIntersection()) {
    return type.types.some((t) => derivesFrom(t, name, file, depth + 1));
  }
  const symbol = type.getSymbol();
  if (
    symbol?.getName() === name &&
    (symbol.declarations ?? []).some((d) => file.test(d.getSourceFile().fileName))
  ) {
    return true;
  }
  const bases = type.isClassOrInterface() ? (type.getBaseTypes() ?? []) : [];
  return bases.some((base) => derivesFrom(base, name, file, depth + 1));
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/gu, "\\$&");
}

/**
 * `setTimeout(...);` as a statement, `void setTimeout(...)`, or the body of a promise executor
 * (`new Promise((r) => setTimeout(r, ms))`, whose return value nobody reads): nobody can clear it.
 */
function droppedResult(call: TSESTree.CallExpression): boolean {
  const parent = call.parent;
  if (parent.type === T.ExpressionStatement) return true;
  if (parent.type === T.UnaryExpression) return parent.operator === "void";
  return (
    parent.type === T.ArrowFunctionExpression &&
    parent.body === call &&
    parent.parent.type === T.NewExpression &&
    parent.parent.callee.type === T.Identifier &&
    parent.parent.callee.name === "Promise"
  );
}

/**
 * True when an argument holds a context, directly or inside (`{ signal: ctx.signal }`,
 * `AbortSignal.any([ctx.signal, other])`). Function arguments are not searched: a callback
 * that reads the context does not make the call stop.
 */
/** The initializer of the `const` that `id` names, if it is one. */
function constInit(context: AnyContext, id: TSESTree.Identifier): TSESTree.Expression | undefined {
  const variable = ASTUtils.findVariable(context.sourceCode.getScope(id), id);
  const def = variable?.defs[0];
  if (def?.type !== TSESLint.Scope.DefinitionType.Variable || def.parent.kind !== "const") {
    return undefined;
  }
  return def.node.init ?? undefined;
}

function carriesContext(
  context: AnyContext,
  services: ParserServicesWithTypeInformation,
  call: TSESTree.CallExpression,
): boolean {
  const pending: TSESTree.Node[] = [...call.arguments];
  const followed = new Set<TSESTree.Node>();
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    switch (node.type) {
      case T.Identifier: {
        if (isContextNode(services, node)) return true;
        // `const signal = AbortSignal.any([ctx.signal, …])`, then `{ signal }`: follow the const.
        const init = constInit(context, node);
        if (init !== undefined && !followed.has(init)) {
          followed.add(init);
          pending.push(init);
        }
        break;
      }
      case T.MemberExpression:
        if (isContextNode(services, node.object)) return true;
        pending.push(node.object);
        break;
      case T.ObjectExpression:
        for (const property of node.properties) {
          pending.push(property.type === T.Property ? property.value : property.argument);
        }
        break;
      case T.ArrayExpression:
        for (const element of node.elements) if (element !== null) pending.push(element);
        break;
      case T.CallExpression:
      case T.NewExpression:
        pending.push(...node.arguments);
        if (node.callee.type === T.MemberExpression) pending.push(node.callee.object);
        break;
      case T.SpreadElement:
      case T.AwaitExpression:
      case T.TSAsExpression:
      case T.TSNonNullExpression:
        pending.push(
          node.type === T.SpreadElement || node.type === T.AwaitExpression
            ? node.argument
            : node.expression,
        );
        break;
      case T.ConditionalExpression:
        pending.push(node.consequent, node.alternate);
        break;
      case T.LogicalExpression:
        pending.push(node.left, node.right);
        break;
      default:
        break;
    }
  }
  return false;
}
