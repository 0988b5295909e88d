import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { spawnSync } from "node:child_process";
import { gunzipSync } from "node:zlib";
import { Profile } from "pprof-format";
import type { JsonReport } from "../../src/diagnostics/report-json.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const built = existsSync(join(ROOT, "dist/esm/diagnostics/register.js"));

/** `go tool pprof -top` output, or undefined (with a note) when no go toolchain is installed. */
function goPprofTop(file: string): string | undefined {
  const run = spawnSync("go", ["tool", "pprof", "-top", "-sample_index=count", file], {
    encoding: "utf8",
    timeout: 60_000,
  });
  if (run.error !== undefined) {
    console.log(`# go tool pprof not run: ${run.error.message}`);
    return undefined;
  }
  assert.equal(run.status, 0, run.stderr);
  return run.stdout;
}

describe("the built package: node --import timebound/register app.mjs", () => {
  it(
    "tracks a plain JavaScript program and writes its report at exit",
    { skip: built ? false : "dist is not built (npm run build)" },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "timebound-dist-"));
      try {
        const child = spawn(
          process.execPath,
          ["--import", "timebound/register", "test/diagnostics/fixtures/dist-app.mjs"],
          {
            cwd: ROOT,
            env: { ...process.env, TIMEBOUND_REPORT_DIR: dir, TIMEBOUND_NEVER_CANCELED_MS: "100" },
          },
        );
        let stderr = "";
        child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
        const code = await new Promise((resolve) => child.on("close", resolve));
        assert.equal(code, 0, stderr);
        const report = JSON.parse(readFileSync(join(dir, "report.json"), "utf8")) as JsonReport;
        const finding = report.findings.find((f) => f.kind === "lost-cancel");
        assert.equal(finding?.details?.count, 2, stderr);
        // timebound's own frames (dist/esm/core) are left out: the stack starts at the program.
        assert.equal(finding?.stack[0]?.functionName, "openSession");
        // A natural exit leaves time for the gzipped profile too.
        const profile = Profile.decode(gunzipSync(readFileSync(join(dir, "profile.pb.gz"))));
        const name = (i: number | bigint): string => profile.stringTable.strings[Number(i)] ?? "";
        const sessions = profile.sample.filter((sample) =>
          sample.locationId.some((id) => {
            const location = profile.location.find((l) => l.id === id);
            const fn = profile.function.find((f) => f.id === location?.line[0]?.functionId);
            return fn !== undefined && name(fn.name) === "openSession";
          }),
        );
        const counts = sessions.map((sample) => Number(sample.value[0]));
        assert.ok(counts.includes(2), `samples through openSession count ${counts.join(", ")}`);
        const top = goPprofTop(join(dir, "profile.pb.gz"));
        if (top !== undefined) assert.match(top, /openSession/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
