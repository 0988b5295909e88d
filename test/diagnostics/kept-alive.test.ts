// "What keeps the process alive", like a goroutine dump of sleepers: resources by type, the
// servers and sockets behind them, and the timers that hold the loop open, at their creation site.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, it } from "node:test";
import { runDiagnose } from "../../src/diagnostics/diagnose.js";
import { parseJsonReport, toJson } from "../../src/diagnostics/report-json.js";
import { toTextReport } from "../../src/diagnostics/report-text.js";
import { type Tracking, track } from "../../src/diagnostics/track.js";
import { FAST_ENV } from "./run-fixture.js";

const ROOT = new URL("../../", import.meta.url).pathname;

let tracking: Tracking | undefined;
afterEach(() => {
  tracking?.stop();
  tracking = undefined;
});

describe("live timers and what keeps the process alive", () => {
  it("names the server, the interval at its creation site, and leaves unref'd timers out", async () => {
    tracking = track({ dumpSignal: false, timerSampleEvery: 1 });
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    function startMetrics(): NodeJS.Timeout {
      return setInterval(() => {}, 60_000);
    }
    function scheduleCleanup(): NodeJS.Timeout {
      return setTimeout(() => {}, 60_000).unref();
    }
    const interval = startMetrics();
    const cleanup = scheduleCleanup();
    try {
      const snapshot = tracking.snapshot();
      const alive = toTextReport(snapshot, { sections: ["alive"] });
      assert.match(alive, /what keeps the process alive: .*1 TCPServerWrap/, alive);
      const { port } = server.address() as { port: number };
      assert.ok(alive.includes(`Server listening on 127.0.0.1:${port}`), alive);
      assert.match(
        alive,
        /1 × setInterval every 1\.0 min at startMetrics \(.*kept-alive\.test\.ts:\d+:\d+\)/,
      );
      assert.doesNotMatch(alive, /scheduleCleanup/, "an unref'd timer holds nothing open");

      const timers = toTextReport(snapshot, { sections: ["timers"] });
      assert.match(timers, /1 @ setInterval every 1\.0 min, keeps the process alive, oldest/);
      assert.match(timers, /1 @ setTimeout in 1\.0 min, unref'd, oldest .*\n#\tscheduleCleanup\t/);

      const back = parseJsonReport(toJson(snapshot));
      assert.equal(toTextReport(back, { sections: ["timers", "alive"] }).length > 0, true);
      assert.deepEqual(back.timers, snapshot.timers, "report.json keeps the live timers");
      assert.deepEqual(back.keptAlive, snapshot.keptAlive, "and what keeps the process alive");
    } finally {
      clearInterval(interval);
      clearTimeout(cleanup);
      server.close();
    }
  });

  it("records every setInterval even when setTimeout is sampled", () => {
    tracking = track({ dumpSignal: false, timerSampleEvery: 1000 });
    const intervals = Array.from({ length: 5 }, () => setInterval(() => {}, 60_000));
    try {
      const group = tracking
        .snapshot()
        .timers?.groups.find((g) => g.kind === "setInterval" && g.delayMs === 60_000);
      assert.equal(group?.count, 5, "all five intervals, whatever the sampling");
    } finally {
      for (const i of intervals) clearInterval(i);
    }
  });

  it("timebound diagnose says what kept a program alive when it was made to exit, not its twin", async () => {
    const run = async (variant: string): Promise<{ printed: string; dump: string }> => {
      const out = mkdtempSync(join(tmpdir(), "timebound-kept-alive-"));
      let printed = "";
      const cwd = process.cwd();
      process.chdir(ROOT);
      try {
        const result = await runDiagnose({
          command: ["node", "test/diagnostics/fixtures/kept-alive.ts", variant],
          out,
          env: FAST_ENV,
          stdout: { write: (text: string) => (printed += text) },
        });
        assert.equal(result.exitCode, 0, printed);
        return { printed, dump: readFileSync(join(out, "dump.txt"), "utf8") };
      } finally {
        process.chdir(cwd);
        rmSync(out, { recursive: true, force: true });
      }
    };
    const [leak, fixed] = await Promise.all([run("leak"), run("fixed")]);
    assert.match(
      leak.printed,
      /kept alive at exit \(pid \d+\): .*1 TCPServerWrap.*: Server listening on 127\.0\.0\.1:\d+; setInterval every 1\.0 s at startPolling \(.*kept-alive\.ts:12:10\)/,
      leak.printed,
    );
    assert.match(leak.dump, /what kept the process alive at exit: /);
    assert.doesNotMatch(fixed.printed, /kept alive at exit/, fixed.printed);
  });
});
