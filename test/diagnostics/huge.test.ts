import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { type CancelableContext, background, withCancel } from "../../src/index.js";
import { writeDump } from "../../src/diagnostics/dump.js";
import { parseJsonReport } from "../../src/diagnostics/report-json.js";
import { readFileSync } from "node:fs";
import { track } from "../../src/diagnostics/track.js";

const HUGE = 200_000;
/** No file of a dump may grow past this, however many contexts are live. */
const MAX_FILE_BYTES = 4 * 1024 * 1024;

describe("a huge number of live contexts", () => {
  const tracking = track({ timers: false, dumpSignal: false, neverCanceledMs: 0 });
  const dir = mkdtempSync(join(tmpdir(), "timebound-huge-"));
  const live: CancelableContext[] = [];

  after(() => {
    for (const ctx of live) ctx.cancel();
    tracking.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function openConnection(): CancelableContext {
    return withCancel(background(), { name: "connection" });
  }

  it(`${HUGE.toLocaleString("en-US")} contexts: the dump stays bounded and says what it left out`, async () => {
    for (let i = 0; i < HUGE; i++) live.push(openConnection());
    const started = performance.now();
    const snapshot = tracking.snapshot();
    const result = await writeDump(dir, snapshot);
    const elapsed = performance.now() - started;
    assert.deepEqual(result.failed, []);
    for (const file of result.written) {
      const size = statSync(join(dir, file)).size;
      assert.ok(size < MAX_FILE_BYTES, `${file} is ${size} bytes`);
    }
    assert.equal(snapshot.contexts.length, 10_000);
    assert.equal(snapshot.omitted.contexts, HUGE - 10_000);
    const text = readFileSync(join(dir, "dump.txt"), "utf8");
    assert.match(text, /200,000 live contexts \(10,000 in this snapshot\)/);
    assert.match(text, /… and 190,000 more contexts not in this snapshot \(size bound\)/);
    // The finding counts every context, not just those that fit in the snapshot.
    const finding = snapshot.findings.find((f) => f.kind === "never-canceled");
    assert.equal(finding?.details?.count, HUGE);
    const report = parseJsonReport(readFileSync(join(dir, "report.json"), "utf8"));
    assert.equal(report.omitted.contexts, HUGE - 10_000);
    assert.ok(elapsed < 60_000, `snapshot and dump took ${Math.round(elapsed)} ms`);
  });
});
