// A context's name as a metric label, with the number of distinct values bounded: each value is
// a time series kept forever by Prometheus, and a name built from request data (a user id, a
// URL) would grow without end.

/** @internal What a context without a name is counted as. */
export const UNNAMED = "unnamed";
/** @internal What a name beyond the allowed set is counted as. */
export const OTHER = "other";

/**
 * @internal Maps context names to label values: the names in `allowed` as they are, when given;
 * otherwise the first `max` distinct names seen, then "other".
 */
export class ContextLabels {
  readonly #allowed: ReadonlySet<string> | undefined;
  readonly #seen = new Set<string>();
  readonly #max: number;

  constructor(allowed: readonly string[] | undefined, max: number) {
    this.#allowed = allowed === undefined ? undefined : new Set(allowed);
    this.#max = max;
  }

  label(name: unknown): string {
    if (typeof name !== "string" || name === "") return UNNAMED;
    if (this.#allowed !== undefined) return this.#allowed.has(name) ? name : OTHER;
    if (this.#seen.has(name)) return name;
    if (this.#seen.size >= this.#max) return OTHER;
    this.#seen.add(name);
    return name;
  }
}
