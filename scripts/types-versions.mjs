// Writes package.json's "typesVersions" from its "exports", or checks that they agree.
//
// TypeScript with `moduleResolution: node10` (the classic "node") ignores "exports": it finds
// `timebound` through "types" but `timebound/http` only through "typesVersions". Each subpath
// maps to the declarations "exports" gives to `import`, the same tree as "types" (the ESM and
// CJS declarations are identical; one tree keeps a node10 program's types in one place).
//
// Usage: node scripts/types-versions.mjs [--check]   (--check: exit 1 when they disagree)
import { readFileSync, writeFileSync } from "node:fs";
import { isDeepStrictEqual } from "node:util";

/** The "typesVersions" that `exports` implies: each subpath to its `import` declarations. */
function typesVersionsFor(exports) {
  const paths = {};
  for (const [subpath, target] of Object.entries(exports)) {
    const types = target?.import?.types;
    if (subpath === "." || typeof types !== "string") continue;
    paths[subpath.replace(/^\.\//, "")] = [types];
  }
  return { "*": paths };
}

/** `pkg` with `typesVersions` set, placed after "types" when it is new. */
function withTypesVersions(pkg, typesVersions) {
  if ("typesVersions" in pkg) return { ...pkg, typesVersions };
  return Object.fromEntries(
    Object.entries(pkg).flatMap((entry) =>
      entry[0] === "types" ? [entry, ["typesVersions", typesVersions]] : [entry],
    ),
  );
}

const file = new URL("../package.json", import.meta.url);
const pkg = JSON.parse(readFileSync(file, "utf8"));
const wanted = typesVersionsFor(pkg.exports);
if (isDeepStrictEqual(pkg.typesVersions, wanted)) {
  console.log("types-versions: package.json's typesVersions matches its exports");
} else if (process.argv.includes("--check")) {
  console.error("types-versions: typesVersions disagrees with exports; run");
  console.error("  node scripts/types-versions.mjs");
  process.exit(1);
} else {
  writeFileSync(file, JSON.stringify(withTypesVersions(pkg, wanted), null, 2) + "\n");
  console.log("types-versions: wrote typesVersions from exports");
}
