// Builds dist/esm (ESM + .d.ts) and dist/cjs (CommonJS + .d.ts) with the TypeScript compiler.
// Usage: node scripts/build.mjs [--if-stale]
//   --if-stale  build only when dist/ is missing or older than a source (see dist-state.mjs):
//               `prepare` uses it, since npm runs prepare both in `npm ci` and again when
//               `npx timebound` links the checkout; the second run then costs nothing.
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { distState } from "./dist-state.mjs";

const ifStale = process.argv.includes("--if-stale");
if (ifStale) {
  const state = distState(process.cwd());
  if (state.fresh) {
    console.error(`build: skipped, ${state.reason}`);
    process.exit(0);
  }
  console.error(`build: ${state.reason}`);
}

const require = createRequire(import.meta.url);
const tsc = require.resolve("typescript/bin/tsc");

rmSync("dist", { recursive: true, force: true });
for (const project of ["tsconfig.build.json", "tsconfig.cjs.json"]) {
  execFileSync(process.execPath, [tsc, "-p", project], { stdio: "inherit" });
}
mkdirSync("dist/cjs", { recursive: true });
// Written last: its presence tells dist-state.mjs that both compilers succeeded.
writeFileSync("dist/cjs/package.json", JSON.stringify({ type: "commonjs" }) + "\n");
