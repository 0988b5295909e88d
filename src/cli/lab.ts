import {
  DEFAULT_LAB_OPTIONS,
  DEFAULT_LAB_OUT,
  LAB_LIMITS,
  LabOptionError,
  type LabOptions,
  labOptions,
} from "../lab/options.js";
import { QUICK_RUN_SCENARIOS } from "../lab/quick.js";
import { findScenario, scenarios } from "../lab/registry.js";
import { renderReport } from "../lab/render.js";
import { runLab } from "../lab/run.js";
import type { Scenario } from "../lab/scenario.js";
import type { Command } from "./command.js";
import type { CliIO } from "./io.js";
import { parseCommandArgs } from "./parse-args.js";
import { progressLine } from "./progress.js";
import { UsageError } from "./usage-error.js";

/** @internal `timebound lab` arguments, parsed and checked. */
export interface LabArgs {
  readonly scenarios: readonly Scenario[];
  readonly options: LabOptions;
  readonly json: boolean;
  readonly help: boolean;
}

/** @internal The lab's help text. */
export function labUsage(): string {
  const { requests: r, scale: s } = LAB_LIMITS;
  const count = (n: number): string => n.toLocaleString("en-US");
  const requests = `${r.min} to ${count(r.max)}, default ${count(DEFAULT_LAB_OPTIONS.requests)}`;
  const scale = `${s.min} to ${s.max}, default ${DEFAULT_LAB_OPTIONS.scale}`;
  const ids = scenarios.map((sc) => `  ${sc.id.padEnd(18)} ${sc.title}`).join("\n");
  return `Usage: timebound lab [options]

Runs each scenario the wrong way and the right way and prints what was measured, next to
what "the Go article" reports for Go services: a Chinese article on why Go's
context.WithTimeout fails in practice, cited by its section numbers. Progress goes to
stderr, the report to stdout.

With neither --only nor --scale the lab takes about a minute: its longest scenarios
(${QUICK_RUN_SCENARIOS.join(", ")}) run shortened, and say so.
Name one with --only, or give --scale (0.25 is the default), for its full-size run.

Options:
  --only <id>        run only this scenario (repeat, or give a comma-separated list), at full size
  --requests <n>     requests for missing-cancel: ${requests}
  --scale <x>        multiply the configured durations by x: ${scale}
                     (given, every scenario runs at full size)
  --out <dir>        folder for the diagnostics scenarios' dumps (default: ${DEFAULT_LAB_OUT})
  --json             print the report as JSON
  -h, --help         show this help

Scenarios:
${ids}
`;
}

/** `timebound lab`'s options, for parseArgs. */
const LAB_OPTIONS = {
  only: { type: "string", multiple: true },
  requests: { type: "string" },
  scale: { type: "string" },
  out: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** @internal Parses `timebound lab` arguments; throws {@link UsageError} naming the bad option. */
export function parseLabArgs(args: readonly string[]): LabArgs {
  const { values } = parseCommandArgs("lab", args, LAB_OPTIONS);
  const only: Scenario[] = [];
  for (const list of (values.only ?? []) as string[]) {
    for (const id of list.split(",").map((part) => part.trim())) {
      const found = findScenario(id);
      if (found === undefined) {
        const known = scenarios.map((s) => s.id).join(", ");
        throw new UsageError(`--only: unknown scenario "${id}"; scenarios: ${known}`, "lab");
      }
      if (!only.includes(found)) only.push(found);
    }
  }
  const raw = {
    requests: values.requests as string | undefined,
    scale: values.scale as string | undefined,
    out: values.out as string | undefined,
  };
  const given: { requests?: number; scale?: number; quick?: boolean; out?: string } = {};
  if (raw.requests !== undefined) given.requests = parseCount(raw.requests);
  if (raw.scale !== undefined) given.scale = parseDecimal(raw.scale);
  // The quick run is the whole lab's: a scenario picked by name runs at full size.
  if (only.length > 0) given.quick = false;
  if (raw.out !== undefined) given.out = raw.out;
  let options: LabOptions;
  try {
    options = labOptions(given);
  } catch (err) {
    if (!(err instanceof LabOptionError)) throw err;
    const option = err.option as keyof typeof raw;
    throw new UsageError(
      `--${err.option} must be ${err.expected}, got "${raw[option] ?? String(err.value)}"`,
      "lab",
    );
  }
  // Keep the registry's order whatever order --only named them in: reports stay comparable.
  const selected = only.length === 0 ? scenarios : scenarios.filter((s) => only.includes(s));
  return { scenarios: selected, options, json: values.json === true, help: values.help === true };
}

/** "20000", "20_000" or "20,000"; NaN for anything else, which labOptions() then refuses. */
function parseCount(text: string): number {
  return /^\d[\d_,]*$/.test(text) ? Number(text.replace(/[_,]/g, "")) : NaN;
}

/** A plain decimal ("0.25", ".5", "2"); NaN for anything else. */
function parseDecimal(text: string): number {
  return /^(\d+(\.\d*)?|\.\d+)$/.test(text) ? Number(text) : NaN;
}

/** @internal `timebound lab`: runs the scenarios and prints the report. */
export const labCommand: Command = {
  name: "lab",
  summary: "run the lab: each scenario the wrong way and the right way, measured here",
  async run(args: readonly string[], io: CliIO): Promise<number> {
    const parsed = parseLabArgs(args);
    if (parsed.help) {
      io.stdout.write(labUsage());
      return 0;
    }
    const progress = progressLine(io.stderr);
    let report;
    try {
      report = await runLab(parsed.scenarios, parsed.options, progress);
    } finally {
      progress.done();
    }
    io.stdout.write(parsed.json ? JSON.stringify(report, null, 2) + "\n" : renderReport(report));
    return 0;
  },
};
