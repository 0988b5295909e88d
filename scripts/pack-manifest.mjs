// npm's prepack and postpack hooks: the packed package.json carries no "scripts".
//
// The checkout needs "prepare" (npm ci runs it, so dist/ exists and `npx timebound lab` works
// right after), but in the published manifest every script names files that are not shipped
// (scripts/, test/), and install-time scripts are what installers warn about and audit. npm packs
// package.json as it is on disk between prepack and postpack, so prepack writes it without
// "scripts", keeping the original in package.json.prepack, and postpack puts that back.
// prepack also builds dist/ when it is older than the sources (packing runs no "prepare" then,
// since npm reads the manifest again after prepack), so a tarball never ships a stale build.
//
// Usage: node scripts/pack-manifest.mjs prepack|postpack   (run by npm pack / npm publish)
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { distState } from "./dist-state.mjs";

const root = process.cwd();
const manifest = join(root, "package.json");
const original = join(root, "package.json.prepack");

/** Writes through a temporary file and a rename, so a reader never sees half a manifest. */
function writeAtomically(path, text) {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

function prepack() {
  if (existsSync(original)) {
    // The last pack stopped before its postpack: what is on disk is the stripped manifest.
    console.error("pack-manifest: restoring package.json from an interrupted pack");
    renameSync(original, manifest);
  }
  const state = distState(root);
  if (!state.fresh) {
    console.error(`pack-manifest: building, ${state.reason}`);
    execFileSync(process.execPath, [join(root, "scripts/build.mjs")], { stdio: "inherit" });
  }
  const text = readFileSync(manifest, "utf8");
  const { scripts: _scripts, ...published } = JSON.parse(text);
  writeFileSync(original, text);
  writeAtomically(manifest, JSON.stringify(published, null, 2) + "\n");
}

function postpack() {
  if (!existsSync(original)) {
    throw new Error("pack-manifest: package.json.prepack is missing: did prepack run?");
  }
  renameSync(original, manifest);
}

const command = process.argv[2];
if (command === "prepack") prepack();
else if (command === "postpack") postpack();
else {
  console.error("Usage: node scripts/pack-manifest.mjs prepack|postpack");
  process.exit(2);
}
