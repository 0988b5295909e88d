// Builds dist/esm (ESM + .d.ts) and dist/cjs (CommonJS + .d.ts) with the TypeScript compiler.
// Usage: node scripts/build.mjs [--if-stale]
//   --if-stale  build only when dist/ is missing or older than a source (see dist-state.mjs):
//               `prepare` uses it, since npm runs prepare both in `npm ci` and again when
//               `npx timebound` links the checkout; the second run then costs nothing.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";
import { distState } from "./dist-state.mjs";

const ifStale = process.argv.includes("--if-stale");
const require = createRequire(import.meta.url);
const tsc = require.resolve("typescript/bin/tsc");

const state = ifStale ? distState(process.cwd()) : { fresh: false, reason: "asked to" };
if (state.fresh) console.error(`build: library skipped, ${state.reason}`);
else {
  if (ifStale) console.error(`build: library, ${state.reason}`);
  rmSync("dist", { recursive: true, force: true });
  for (const project of ["tsconfig.build.json", "tsconfig.cjs.json"]) {
    execFileSync(process.execPath, [tsc, "-p", project], { stdio: "inherit" });
  }
  mkdirSync("dist/cjs", { recursive: true });
  // Written last: its presence tells dist-state.mjs that both compilers succeeded.
  writeFileSync("dist/cjs/package.json", JSON.stringify({ type: "commonjs" }) + "\n");
}

// The workspace packages (packages/*) build after the library, whose declarations they use:
// in a full build (npm run build, npm test), not in npm ci's prepare (--if-stale), which builds
// what `npx timebound lab` needs and nothing that depends on the workspace's own installs.
for (const pkg of !ifStale && existsSync("packages") ? readdirSync("packages").sort() : []) {
  const dir = join("packages", pkg);
  if (!existsSync(join(dir, "tsconfig.build.json"))) continue;
  rmSync(join(dir, "dist"), { recursive: true, force: true });
  execFileSync(process.execPath, [tsc, "-p", join(dir, "tsconfig.build.json")], {
    stdio: "inherit",
  });
}
