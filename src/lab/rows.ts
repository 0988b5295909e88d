import type { Context } from "../core/index.js";
import type { ResultRow } from "./scenario.js";

/** @internal A row of numbers, wrong vs right, each shown with `format`. */
export function numberRow(
  key: string,
  measure: string,
  unit: "count" | "ms" | "bytes",
  wrong: number,
  right: number,
  format: (n: number) => string,
): ResultRow {
  return {
    key,
    measure,
    unit,
    wrong: { value: wrong, text: format(wrong) },
    right: { value: right, text: format(right) },
  };
}

/** @internal A row of text, wrong vs right. */
export function textRow(key: string, measure: string, wrong: string, right: string): ResultRow {
  return {
    key,
    measure,
    wrong: { value: wrong, text: wrong },
    right: { value: right, text: right },
  };
}

/**
 * @internal The seed's `go func() { <-ctx.Done(); log.Println("done") }()`, one per request: a
 * waiter on each request context, counted while pending (the goroutines a leak strands).
 */
export class Waiters {
  pending = 0;
  start(ctx: Context): void {
    this.pending++;
    void ctx.done.then(() => {
      this.pending--;
    });
  }
}
