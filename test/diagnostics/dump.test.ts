import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { DUMP_FILES, writeDump, writeDumpSync } from "../../src/diagnostics/dump.js";
import { NOT_TRACKING } from "../../src/diagnostics/report-text.js";
import { snapshot } from "../../src/diagnostics/track.js";

describe("a dump requested while nothing is tracked", () => {
  it("writes every file, the text ones saying tracking is off", async () => {
    const dir = mkdtempSync(join(tmpdir(), "timebound-dump-"));
    try {
      const result = await writeDump(dir, snapshot());
      assert.deepEqual(result.failed, []);
      assert.deepEqual(readdirSync(dir).sort(), Object.keys(DUMP_FILES).sort());
      assert.equal(readFileSync(join(dir, "dump.txt"), "utf8"), NOT_TRACKING);
      const sync = writeDumpSync(join(dir, "sync"), snapshot());
      assert.ok(sync.written.includes("report.json"));
      assert.match(readFileSync(join(dir, "sync", "report.json"), "utf8"), /"tracking": false/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
