// Runs tests on the Node lines users run besides the one running this script: by default 22
// (maintenance LTS) and 24 (active LTS), with binaries from node-binary.mjs (downloaded once).
// Each version runs scripts/test.mjs under its own binary, first on PATH, so the test files and
// every `node` they start are that version.
//
// Usage: node scripts/test-node-versions.mjs [test paths...]
//   default paths: the unit, property and package suites (no server needed); with other paths,
//   test.mjs starts PostgreSQL and Redis as usual.
//   TIMEBOUND_NODE_VERSIONS=22.23.5,24.22.3   the exact versions (these are the default)
import { spawn } from "node:child_process";
import { dirname } from "node:path";
import { nodeBinary } from "./node-binary.mjs";

const VERSIONS = (process.env.TIMEBOUND_NODE_VERSIONS ?? "22.23.5,24.22.3").split(",");
const DEFAULT_PATHS = ["test/core", "test/sync", "test/property", "test/package"];

const paths = process.argv.slice(2);
const env = { ...process.env };
if (paths.length === 0) env.TIMEBOUND_SKIP_SERVICES ??= "1";

/** Runs test.mjs under `bin`, passing its output through; resolves with its summary. */
function runTests(bin) {
  return new Promise((resolve) => {
    const child = spawn(
      bin,
      ["--import", "tsx", "scripts/test.mjs", ...(paths.length > 0 ? paths : DEFAULT_PATHS)],
      {
        stdio: ["ignore", "pipe", "inherit"],
        env: { ...env, PATH: `${dirname(bin)}:${env.PATH ?? ""}` },
      },
    );
    let tail = "";
    child.stdout.on("data", (chunk) => {
      process.stdout.write(chunk);
      tail = (tail + chunk.toString()).slice(-1000);
    });
    child.on("close", (code) => {
      const summary = /\d+ passed, \d+ failed, \d+ skipped/.exec(tail)?.[0] ?? "no summary";
      resolve({ ok: code === 0, summary });
    });
  });
}

const results = [];
for (const version of VERSIONS) {
  const bin = nodeBinary(version);
  console.log(`\ntest-node-versions: Node ${version} (${bin})`);
  const started = performance.now();
  const { ok, summary } = await runTests(bin);
  const seconds = Math.round((performance.now() - started) / 1000);
  results.push({ version, ok, line: `Node ${version}: ${summary} (${seconds} s)` });
}
console.log("\ntest-node-versions:");
for (const r of results) console.log(`  ${r.ok ? "ok  " : "FAIL"} ${r.line}`);
process.exit(results.every((r) => r.ok) ? 0 : 1);
