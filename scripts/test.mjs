// Runs every test file with node:test (TypeScript through tsx), each file in its own process,
// and closes with one plain summary line: "N passed, N failed, N skipped".
// Before the tests it starts a throwaway PostgreSQL and Redis on free loopback ports (from the
// system's binaries) and hands their addresses to the tests in TIMEBOUND_TEST_PG_URL and
// TIMEBOUND_TEST_REDIS_URL; it stops them after, and if this script is interrupted or killed
// instead, timebound/testing still stops them and removes their data. TIMEBOUND_SKIP_SERVICES=1
// skips that.
// Usage: node --import tsx scripts/test.mjs [file-or-folder ...]   (default: test/)
import { spawn } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const TEST_FILE = /\.test\.(ts|mjs|cjs)$/;

function collect(path) {
  if (statSync(path).isDirectory()) {
    return readdirSync(path)
      .sort()
      .flatMap((entry) => collect(join(path, entry)));
  }
  return TEST_FILE.test(path) ? [path] : [];
}

// By default: the library's tests and every workspace package's (packages/*/test).
function defaultRoots() {
  const packages = readdirSync("packages", { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => join("packages", d.name, "test"))
    .filter((dir) => statSync(dir, { throwIfNoEntry: false })?.isDirectory() === true);
  return ["test", ...packages.sort()];
}

const roots = process.argv.slice(2);
const files = (roots.length > 0 ? roots : defaultRoots()).flatMap(collect);
if (files.length === 0) {
  console.error("test: no test files found");
  process.exit(1);
}

const services = [];
const env = { ...process.env };
if (process.env.TIMEBOUND_SKIP_SERVICES !== "1") {
  const { startPostgres, startRedis } = await import("../src/testing/index.ts");
  const startedAt = performance.now();
  // The cluster cache saves initdb's second on every run, at 28 MB kept in the temp dir.
  const [pg, redis] = await Promise.all([startPostgres({ clusterCache: true }), startRedis()]);
  services.push(pg, redis);
  env.TIMEBOUND_TEST_PG_URL = pg.url;
  env.TIMEBOUND_TEST_REDIS_URL = redis.url;
  const ms = Math.round(performance.now() - startedAt);
  console.log(`test: postgres at ${pg.url}, redis at ${redis.url} (started in ${ms} ms)`);
}

const args = [
  "--expose-gc",
  "--import",
  "tsx",
  "--test",
  "--test-reporter=spec",
  `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`,
  ...files,
];
const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"], env });
const totals = { pass: 0, fail: 0, skipped: 0, todo: 0, canceled: 0 };
// The runner's closing lines ("ℹ pass 12") may sit before pages of failure details: read them
// line by line as they stream, never from a fixed-size tail.
let partial = "";
child.stdout.on("data", (chunk) => {
  process.stdout.write(chunk);
  const lines = (partial + chunk.toString()).split("\n");
  partial = lines.pop() ?? "";
  for (const line of lines) {
    const m = /^ℹ (pass|fail|skipped|todo|canceled) (\d+)$/.exec(line);
    if (m) totals[m[1]] = Number(m[2]);
  }
});
// A signal to this runner (Ctrl-C reaches both; a SIGTERM from CI reaches only this one) goes to
// the test process too; its close then stops the servers and reports.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => child.kill(signal));
}
child.on("close", async (code) => {
  await Promise.all(services.map((s) => s.stop()));
  const failed = totals.fail + totals.canceled;
  console.log(`\n${totals.pass} passed, ${failed} failed, ${totals.skipped} skipped`);
  process.exit(code === 0 && failed === 0 ? 0 : 1);
});
