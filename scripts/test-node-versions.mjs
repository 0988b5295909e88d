// Runs tests on the Node lines users run besides the one running this script: by default 22
// (maintenance LTS) and 24 (active LTS), with binaries from node-binary.mjs (downloaded once).
// Each version runs scripts/test.mjs under its own binary, first on PATH, so the test files and
// every `node` they start are that version.
//
// Usage: node scripts/test-node-versions.mjs [test paths...]
//   default: the unit (core, sync, leak), property and package suites, which need no server,
//   but for the TypeScript consumers' test (tsc's verdict does not depend on the Node running
//   it); with paths given, those run, and test.mjs starts PostgreSQL and Redis as usual.
//   TIMEBOUND_NODE_VERSIONS=22.23.5,24.22.3   the exact versions (these are the default)
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { nodeBinary } from "./node-binary.mjs";

process.chdir(fileURLToPath(new URL("..", import.meta.url)));

const VERSIONS = (process.env.TIMEBOUND_NODE_VERSIONS ?? "22.23.5,24.22.3").split(",");
const DEFAULT_PATHS = [
  "test/core",
  "test/sync",
  "test/leak",
  "test/property",
  ...readdirSync("test/package")
    .filter((file) => file.endsWith(".test.ts") && file !== "types.test.ts")
    .map((file) => `test/package/${file}`),
];

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

// Every binary first: a download that fails stops the run before minutes of tests, not after them.
const binaries = VERSIONS.map((version) => ({ version, bin: nodeBinary(version) }));
const results = [];
for (const { version, bin } of binaries) {
  console.log(`\ntest-node-versions: Node ${version} (${bin})`);
  const started = performance.now();
  const { ok, summary } = await runTests(bin);
  const seconds = Math.round((performance.now() - started) / 1000);
  results.push({ ok, line: `Node ${version}: ${summary} (${seconds} s)` });
}
console.log("\ntest-node-versions:");
for (const r of results) console.log(`  ${r.ok ? "ok  " : "FAIL"} ${r.line}`);
process.exit(results.every((r) => r.ok) ? 0 : 1);
