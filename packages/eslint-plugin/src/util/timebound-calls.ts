import type { TSESLint, TSESTree } from "@typescript-eslint/utils";
import { importedName, sourceMatches } from "./imports.js";

/** The functions that return a context its caller must cancel. */
export const CANCELABLE_FACTORIES: ReadonlySet<string> = new Set([
  "withCancel",
  "withCancelCause",
  "withTimeout",
  "withTimeoutCause",
  "withDeadline",
  "withDeadlineCause",
]);

/** The functions that start a new tree: no parent, no deadline, no cancel from above. */
export const ROOT_FACTORIES: ReadonlySet<string> = new Set(["background", "todo"]);

/** Modules whose exports are timebound's, by default: the package and its subpaths. */
export const DEFAULT_SOURCES: readonly string[] = ["^timebound(/|$)"];

/** JSON schema of the `sources` option shared by the rules that recognise timebound's functions. */
export const SOURCES_SCHEMA = {
  type: "array",
  items: { type: "string" },
  description:
    "Regular expressions matched against import sources whose exports are timebound's (default: the package and its subpaths).",
} as const;

type AnyContext = Readonly<TSESLint.RuleContext<string, readonly unknown[]>>;

/**
 * The exported name of the timebound function `call` calls (`"withTimeout"`), if it calls one
 * imported from a module matching `sources`; undefined otherwise.
 */
export function timeboundFunction(
  context: AnyContext,
  call: TSESTree.CallExpression,
  sources: readonly RegExp[],
): string | undefined {
  const imported = importedName(context, call.callee);
  if (imported === undefined || !sourceMatches(imported.source, sources)) return undefined;
  return imported.name;
}

/** The `sources` option as regular expressions. */
export function sourcePatterns(sources: readonly string[] | undefined): RegExp[] {
  return (sources ?? DEFAULT_SOURCES).map((source) => new RegExp(source, "u"));
}
