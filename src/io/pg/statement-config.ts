import type { QueryConfig } from "pg";
import { describeValue } from "../../core/explain.js";
import type { DriverQueryConfig } from "./driver.js";

/** SQL text, or a pg QueryConfig (`{ text, values, name, types, queryMode }`). */
export type QueryText = string | QueryConfig<unknown[]>;

/**
 * Checks the caller's statement and values and builds the config pg's Query takes. As in pg,
 * `values` given as an argument take the place of `config.values`. Throws a TypeError naming
 * `fn` and the bad value.
 */
export function statementConfig(
  text: unknown,
  values: unknown,
  fn: string,
): Omit<DriverQueryConfig, "callback"> {
  if (values !== undefined && !Array.isArray(values)) {
    throw new TypeError(`${fn}: values must be an array, got ${describeValue(values)}`);
  }
  if (typeof text === "string") {
    return values === undefined ? { text } : { text, values: values as unknown[] };
  }
  const config = text as Partial<QueryConfig<unknown[]>> | null;
  if (typeof config !== "object" || config === null || typeof config.text !== "string") {
    throw new TypeError(
      `${fn}: text must be a SQL string or a QueryConfig with a string text, got ` +
        describeValue(text),
    );
  }
  if (config.values !== undefined && !Array.isArray(config.values)) {
    throw new TypeError(
      `${fn}: config.values must be an array, got ${describeValue(config.values)}`,
    );
  }
  if ("rowMode" in config || "callback" in config) {
    throw new TypeError(
      `${fn}: rowMode and callback are not supported in the config (results come as objects, ` +
        "through the returned promise)",
    );
  }
  return { ...(config as QueryConfig<unknown[]>), ...(values === undefined ? {} : { values }) };
}
