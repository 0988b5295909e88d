import type { LabOptions } from "./options.js";

/**
 * @internal One lab experiment: the same job done the wrong way and the right way, measured on this
 * machine, next to what the seed article reports for Go. Add a scenario by writing a file that
 * exports one of these and listing it in `registry.ts`.
 */
export interface Scenario {
  /** Stable id, used by `--only` and in JSON output (`missing-cancel`). */
  readonly id: string;
  /** One line: what goes wrong. */
  readonly title: string;
  /** What the Go article reports, with its section, so a reader can compare. */
  readonly goArticle: string;
  /** What the wrong variant does (heads the "wrong" column). */
  readonly wrong: string;
  /** What the right variant does (heads the "right" column). */
  readonly right: string;
  /** Runs both variants. Must leave nothing behind: no live timers, no linked contexts. */
  run(options: LabOptions, progress: Progress): Promise<ScenarioResult>;
}

/** @internal What a scenario measured. */
export interface ScenarioResult {
  /** How it ran with these options, in one line ("20,000 requests, ..."). */
  readonly setup: string;
  readonly rows: readonly ResultRow[];
  /** Conclusions drawn from the measured numbers, one sentence each. */
  readonly findings: readonly string[];
}

/** @internal One measured quantity, wrong vs right. */
export interface ResultRow {
  /** Stable id within the scenario (`dependents`, `b.lifetime`), for tests and JSON readers. */
  readonly key: string;
  /** Groups rows that belong to one case (`(a) parent 3 s, child 2 s`); shown once. */
  readonly group?: string;
  /** What is measured, for people. */
  readonly measure: string;
  /** Unit of the numeric values: `count`, `ms`, `bytes`; absent for text. */
  readonly unit?: "count" | "ms" | "bytes";
  readonly wrong: Measurement;
  readonly right: Measurement;
}

/** @internal A measured value and how the table shows it. */
export interface Measurement {
  /** For machines: a number in the row's unit, or text (an error's class, a message). */
  readonly value: number | string | null;
  /** For people. */
  readonly text: string;
}

/**
 * @internal Where a scenario reports how far it has got. The CLI draws it on stderr; tests pass
 * {@link silentProgress}.
 */
export interface Progress {
  /** A new step has started ("missing-cancel: wrong, 20,000 requests"). */
  step(text: string): void;
  /** How far the current step has got ("5,000 / 20,000"); may be dropped. */
  tick(text: string): void;
}

/** @internal A {@link Progress} that reports nothing. */
export const silentProgress: Progress = {
  step() {},
  tick() {},
};
