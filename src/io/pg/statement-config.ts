import { describeValue, invalidType } from "../../core/internal.js";
import type { QueryConfig } from "pg";

/** SQL text, or a pg QueryConfig (`{ text, values, name, types, queryMode }`). */
export type QueryText = string | QueryConfig<unknown[]>;

/** @internal A checked statement, in the two arguments pg's Query constructor takes first. */
export interface StatementSource {
  /** The caller's SQL string, or their QueryConfig as given (pg copies it). */
  readonly text: QueryText;
  /** `values` given as an argument, which take the place of `config.values` (as in pg). */
  readonly values: unknown[] | undefined;
}

/**
 * @internal Checks the caller's statement and values. Throws a TypeError naming `fn` and the bad
 * value. The statement is passed on to pg as given, so that a plain string costs pg no copy.
 */
export function statementSource(text: unknown, values: unknown, fn: string): StatementSource {
  if (values !== undefined && !Array.isArray(values)) {
    throw invalidType(`${fn}: values must be an array, got ${describeValue(values)}`);
  }
  if (typeof text === "string") return { text, values: values as unknown[] | undefined };
  const config = text as Partial<QueryConfig<unknown[]>> | null;
  if (typeof config !== "object" || config === null || typeof config.text !== "string") {
    throw invalidType(
      `${fn}: text must be a SQL string or a QueryConfig with a string text, got ` +
        describeValue(text),
    );
  }
  if (config.values !== undefined && !Array.isArray(config.values)) {
    throw invalidType(`${fn}: config.values must be an array, got ${describeValue(config.values)}`);
  }
  if ("rowMode" in config || "callback" in config) {
    throw invalidType(
      `${fn}: rowMode and callback are not supported in the config (results come as objects, ` +
        "through the returned promise)",
    );
  }
  return { text: config as QueryConfig<unknown[]>, values: values as unknown[] | undefined };
}
