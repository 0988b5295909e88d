// The error catalogue (docs/errors.md) lists every error code of the sources, and only those.
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CODE = /TIMEBOUND_(?:GATEWAY_)?ERR_[A-Z_]+/g;

/** The source folders: src/ and every package's src/. */
function sourceDirs(): string[] {
  const packages = readdirSync(join(ROOT, "packages"), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => join(ROOT, "packages", d.name, "src"));
  return [join(ROOT, "src"), ...packages];
}

/** Every code written in a .ts file under `dirs`. */
function codesIn(dirs: readonly string[]): Set<string> {
  const codes = new Set<string>();
  for (const dir of dirs) {
    let files: string[];
    try {
      files = readdirSync(dir, { recursive: true, encoding: "utf8" });
    } catch {
      continue; // a package without sources yet
    }
    for (const file of files.filter((f) => f.endsWith(".ts"))) {
      for (const m of readFileSync(join(dir, file), "utf8").matchAll(CODE)) codes.add(m[0]);
    }
  }
  return codes;
}

const doc = readFileSync(join(ROOT, "docs", "errors.md"), "utf8");
const documented = new Set(doc.match(CODE) ?? []);
const inSources = codesIn(sourceDirs());

describe("docs/errors.md", () => {
  it("finds the codes it checks", () => {
    assert.ok(inSources.size >= 20, `only ${inSources.size} codes found in the sources`);
    assert.ok(inSources.has("TIMEBOUND_ERR_DEADLINE_EXCEEDED"), "the core's codes are scanned");
  });

  it("lists every error code of the sources", () => {
    const missing = [...inSources].filter((code) => !documented.has(code)).sort();
    assert.deepEqual(missing, [], `codes missing from docs/errors.md: ${missing.join(", ")}`);
  });

  it("lists no code that the sources no longer have", () => {
    const stale = [...documented].filter((code) => !inSources.has(code)).sort();
    assert.deepEqual(stale, [], `codes in docs/errors.md that no source has: ${stale.join(", ")}`);
  });

  it("lists Canceled's code, ABORT_ERR, the one code without the prefix", () => {
    assert.match(doc, /`ABORT_ERR`\s*\|\s*`Canceled`/, "ABORT_ERR is listed for Canceled");
  });
});
