import { now } from "../core/index.js";
import { garbageCollector } from "./gc.js";
import type { LabOptions } from "./options.js";
import type { Progress, Scenario, ScenarioResult } from "./scenario.js";

/** @internal A scenario's result together with what it is, as `timebound lab --json` prints it. */
export interface ScenarioReport extends ScenarioResult {
  readonly id: string;
  readonly title: string;
  readonly goArticle: string;
  readonly wrong: string;
  readonly right: string;
  readonly durationMs: number;
}

/** @internal Everything one lab run measured, and where. */
export interface LabReport {
  /** `process.version`: numbers depend on it. */
  readonly node: string;
  readonly platform: string;
  readonly options: LabOptions;
  /** Whether heap figures were taken after a forced garbage collection. */
  readonly gc: boolean;
  readonly scenarios: readonly ScenarioReport[];
  readonly durationMs: number;
}

/** @internal Runs `scenarios` one after another (they measure time and heap, so never at once). */
export async function runLab(
  scenarios: readonly Scenario[],
  options: LabOptions,
  progress: Progress,
): Promise<LabReport> {
  const start = now();
  const reports: ScenarioReport[] = [];
  for (const s of scenarios) {
    const t = now();
    const result = await s.run(options, progress);
    reports.push({
      id: s.id,
      title: s.title,
      goArticle: s.goArticle,
      wrong: s.wrong,
      right: s.right,
      ...result,
      durationMs: now() - t,
    });
  }
  return {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    options,
    gc: garbageCollector() !== null,
    scenarios: reports,
    durationMs: now() - start,
  };
}
