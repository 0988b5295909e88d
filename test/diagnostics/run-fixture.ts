import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Finding, FindingKind } from "../../src/diagnostics/model.js";
import type { JsonReport } from "../../src/diagnostics/report-json.js";

/** What a fixture run left: its output, exit status and the report it wrote at exit. */
export interface FixtureRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly dir: string;
  readonly report: JsonReport | undefined;
}

const ROOT = new URL("../../", import.meta.url).pathname;

/** Thresholds low enough for short fixtures; each test may override. */
export const FAST_ENV = {
  TIMEBOUND_NEVER_CANCELED_MS: "200",
  TIMEBOUND_IGNORED_CANCELLATION_MS: "200",
  TIMEBOUND_TIMER_SAMPLE_EVERY: "1",
  TIMEBOUND_DUMP_SIGNAL: "off",
  TIMEBOUND_GROWTH_MIN_RUN_MS: "0",
};

/** The node arguments that run a fixture with the register preload (from the sources). */
export function fixtureArgs(name: string, args: readonly string[] = []): string[] {
  return [
    "--expose-gc",
    "--import",
    "tsx",
    "--import",
    "./src/diagnostics/register.ts",
    `test/diagnostics/fixtures/${name}.ts`,
    ...args,
  ];
}

/**
 * Runs `test/diagnostics/fixtures/<name>.ts <variant>` as a real child process with
 * `--import` of the register preload and TIMEBOUND_REPORT_DIR set to a fresh folder, and reads
 * back the report.json it wrote at exit.
 */
export async function runFixture(
  name: string,
  variant: string | undefined,
  env: Readonly<Record<string, string>> = {},
): Promise<FixtureRun> {
  const dir = mkdtempSync(join(tmpdir(), `timebound-${name}-`));
  const child = spawn(process.execPath, fixtureArgs(name, variant === undefined ? [] : [variant]), {
    cwd: ROOT,
    env: { ...process.env, ...FAST_ENV, TIMEBOUND_REPORT_DIR: dir, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on("close", (c, s) => resolve([c, s])),
  );
  const file = join(dir, "report.json");
  const report = existsSync(file)
    ? (JSON.parse(readFileSync(file, "utf8")) as JsonReport)
    : undefined;
  return { code, signal, stdout, stderr, dir, report };
}

/** Removes a fixture's report folder. */
export function cleanup(run: FixtureRun): void {
  rmSync(run.dir, { recursive: true, force: true });
}

/** The report's findings of one kind (the report must exist). */
export function findingsOf(run: FixtureRun, kind: FindingKind): Finding[] {
  if (run.report === undefined) {
    throw new Error(`no report.json was written (exit ${run.code}); stderr:\n${run.stderr}`);
  }
  return run.report.findings.filter((f) => f.kind === kind);
}

/**
 * The function names of the finding's stack, without V8's receiver prefix ("Timeout.tick" and
 * "Object.startWorkers" read as "tick" and "startWorkers").
 */
export function stackNames(finding: Finding): string[] {
  return finding.stack.map((f) => f.functionName.replace(/^.*\./, ""));
}
