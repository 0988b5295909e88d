// Runs benchmark suites: `npm run bench` runs all, `npm run bench -- core` one.
// Each suite prints `name  ops/s  anchor-ops/s  ratio` and writes bench/results/<suite>.json.
const suites: Record<string, () => Promise<void>> = {
  core: async () => (await import("./core/index.js")).run(),
  io: async () => (await import("./io/index.js")).run(),
  diagnostics: async () => (await import("./diagnostics/index.js")).run(),
  gateway: async () => (await import("./gateway/index.js")).run(),
  resilience: async () => (await import("./resilience/index.js")).run(),
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !(name in suites));
if (unknown.length > 0) {
  console.error(
    `unknown suite(s): ${unknown.join(", ")}; available: ${Object.keys(suites).join(", ")}`,
  );
  process.exit(2);
}
if (typeof (globalThis as { gc?: unknown }).gc !== "function") {
  console.error("benchmarks need --expose-gc: run them with `npm run bench`");
  process.exit(2);
}
for (const name of wanted.length > 0 ? wanted : Object.keys(suites)) {
  await suites[name]!();
}
