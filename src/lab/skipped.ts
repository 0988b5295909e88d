import type { ScenarioResult } from "./scenario.js";

/**
 * @internal The result of a scenario that could not run here (its driver or server binary is
 * missing): the reason, said once (as its setup), and one row marked skipped, so the lab's other
 * scenarios still run and the table shows the gap.
 */
export function skippedResult(measure: string, why: string): ScenarioResult {
  const cell = { value: "skipped", text: "skipped" };
  return {
    setup: `skipped: ${why}`,
    rows: [{ key: "skipped", measure, wrong: cell, right: cell }],
    findings: [],
  };
}

/** @internal An error's class and the first clause of its message: short enough for a table cell. */
export function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  return `${err.constructor.name}: ${err.message.split(/[:;(]/)[0]!.trim()}`;
}
