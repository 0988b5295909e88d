import assert from "node:assert/strict";
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseJsonReport } from "../../src/diagnostics/report-json.js";
import { FAST_ENV, cleanup, findingsOf, fixtureArgs, runFixture } from "./run-fixture.js";

const ROOT = new URL("../../", import.meta.url).pathname;

interface Idle {
  readonly child: ChildProcessWithoutNullStreams;
  readonly port: number;
  stderr: string;
  readonly exited: Promise<[number | null, NodeJS.Signals | null]>;
}

/** Starts the idle fixture and waits until it listens. */
async function startIdle(env: Record<string, string>): Promise<Idle> {
  const child = spawn(process.execPath, fixtureArgs("idle"), {
    cwd: ROOT,
    env: { ...process.env, ...FAST_ENV, TIMEBOUND_DUMP_SIGNAL: "SIGUSR2", ...env },
  });
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on("close", (code, signal) => resolve([code, signal])),
  );
  const idle = { child, port: 0, stderr: "", exited };
  child.stderr.on("data", (chunk: Buffer) => (idle.stderr += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const m = /ready (\d+)/.exec(out);
      if (m !== null) resolve(Number(m[1]));
    });
    child.on("close", () => reject(new Error(`idle fixture exited early:\n${idle.stderr}`)));
  });
  return Object.assign(idle, { port });
}

async function waitFor(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe("dumps on a signal and at exit", () => {
  it("SIGUSR2 writes a dump folder; SIGTERM (handled by the program) still writes the exit report", async () => {
    const dir = mkdtempSync(join(tmpdir(), "timebound-signal-"));
    try {
      const idle = await startIdle({ TIMEBOUND_REPORT_DIR: dir });
      idle.child.kill("SIGUSR2");
      const report = join(dir, "sigusr2-1", "report.json");
      await waitFor("the SIGUSR2 dump", () => existsSync(join(dir, "sigusr2-1", "growth.svg")));
      await waitFor("the SIGUSR2 message", () => /SIGUSR2: wrote/.test(idle.stderr));
      const snapshot = parseJsonReport(readFileSync(report, "utf8"));
      assert.equal(snapshot.contexts.filter((c) => c.name === "connection").length, 3);
      assert.ok(snapshot.contexts[0]?.stack.some((f) => f.functionName === "holdConnections"));
      for (const file of [
        "dump.txt",
        "dump-full.txt",
        "profile.pb.gz",
        "stacks.folded",
        "flamegraph.html",
        "growth.csv",
      ]) {
        assert.ok(existsSync(join(dir, "sigusr2-1", file)), file);
      }
      idle.child.kill("SIGTERM");
      const [code] = await idle.exited;
      assert.equal(code, 0, idle.stderr);
      assert.ok(existsSync(join(dir, "report.json")), `exit report; stderr:\n${idle.stderr}`);
      assert.match(idle.stderr, /timebound: exit \(code 0\): wrote /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("SIGUSR2 without a report folder prints the debug=1 dump on stderr", async () => {
    const idle = await startIdle({});
    try {
      idle.child.kill("SIGUSR2");
      await waitFor("the stderr dump", () => /\n3 @ withCancel "connection"/.test(idle.stderr));
      assert.match(idle.stderr, /\n#\tholdConnections\t/);
    } finally {
      idle.child.kill("SIGTERM");
      await idle.exited;
    }
  });

  it("SIGINT with no handler of the program's own: the report is written, then the signal kills it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "timebound-sigint-"));
    try {
      const idle = await startIdle({ TIMEBOUND_REPORT_DIR: dir });
      idle.child.kill("SIGINT");
      const [code, signal] = await idle.exited;
      assert.equal(signal, "SIGINT", `exit ${code}; stderr:\n${idle.stderr}`);
      assert.ok(existsSync(join(dir, "report.json")), idle.stderr);
      assert.deepEqual(readdirSync(dir).includes("dump.txt"), true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a program that crashes (uncaught exception) still writes its exit report", async () => {
    const run = await runFixture("crash", undefined);
    try {
      assert.equal(run.code, 1);
      assert.match(run.stderr, /fixture crash with 1 context live/);
      // Still live when the process died: nobody can cancel it any more, a lost cancel.
      const found = findingsOf(run, "lost-cancel");
      assert.equal(found[0]?.contextName, "doomed", run.stderr);
      assert.equal(found[0]?.details?.liveAtExit, 1, run.stderr);
      assert.ok(existsSync(join(run.dir, "dump.txt")));
    } finally {
      cleanup(run);
    }
  });
});
