// Whether dist/ was built from the sources as they are now, by the mtimes, as make decides:
// fresh when the build finished (dist/cjs/package.json, written last, exists) and every file in
// dist/ is newer than every build input. Used by `build.mjs --if-stale` and the prepack hook.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

/** What the build reads: the sources, the compiler configurations and the build script. */
const INPUTS = [
  "src",
  "tsconfig.json",
  "tsconfig.build.json",
  "tsconfig.cjs.json",
  "scripts/build.mjs",
];
/** Written by build.mjs after both compilers succeeded: a failed build leaves no such file. */
const LAST_OUTPUT = "dist/cjs/package.json";

/** Every file and folder under `path` (itself included), with its mtime in ms. */
function walk(path) {
  const stat = statSync(path);
  const own = [{ path, mtimeMs: stat.mtimeMs }];
  if (!stat.isDirectory()) return own;
  return own.concat(...readdirSync(path).map((entry) => walk(join(path, entry))));
}

/**
 * Whether `root`'s dist/ is up to date with its sources.
 * @param {string} root the checkout (the folder holding package.json)
 * @returns {{ fresh: boolean, reason: string }} reason: why it must be built, or why not
 */
export function distState(root) {
  const lastOutput = LAST_OUTPUT;
  if (!existsSync(join(root, lastOutput))) {
    return { fresh: false, reason: `${lastOutput} is missing (never built, or the build failed)` };
  }
  // Folders count among the inputs: deleting a source file changes its folder's mtime.
  const inputs = INPUTS.map((p) => join(root, p))
    .filter((p) => existsSync(p))
    .flatMap(walk);
  const outputs = walk(join(root, "dist")).filter((o) => !statSync(o.path).isDirectory());
  const newest = inputs.reduce((a, b) => (b.mtimeMs > a.mtimeMs ? b : a));
  const oldest = outputs.reduce((a, b) => (b.mtimeMs < a.mtimeMs ? b : a));
  return newest.mtimeMs < oldest.mtimeMs
    ? { fresh: true, reason: "dist/ is newer than every source" }
    : {
        fresh: false,
        reason: `${relative(root, newest.path)} changed after ${relative(root, oldest.path)} was built`,
      };
}
