// The package.json that gets published, and the one the checkout keeps.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ROOT, pack, withPackLock } from "./packed.js";

type Exports = Record<string, string | { import?: { types?: string }; require?: unknown }>;

// Read under the pack lock: another test process packing this checkout at that moment has the
// stripped manifest on disk until its postpack.
const readManifest = (): string =>
  withPackLock(() => readFileSync(join(ROOT, "package.json"), "utf8"));
// Read before this file packs: packing must give it back byte for byte.
const beforePack = readManifest();
const checkout = JSON.parse(beforePack) as {
  exports: Exports;
  types: string;
  typesVersions?: unknown;
  scripts: Record<string, string>;
};

/** Scripts npm runs when it installs a package, or when it installs a checkout (prepare). */
const INSTALL_TIME = [
  "preinstall",
  "install",
  "postinstall",
  "prepublish",
  "preprepare",
  "prepare",
  "postprepare",
];

/** Every path a conditional export names, with the condition path that leads to it. */
function targets(value: unknown, at: string): [string, string][] {
  if (typeof value === "string") return [[at, value]];
  if (typeof value !== "object" || value === null) return [];
  return Object.entries(value).flatMap(([key, v]) => targets(v, `${at} ${key}`));
}

describe("typesVersions (for TypeScript's node10 resolution, which ignores exports)", () => {
  it("maps each subpath of exports to its import declarations, and nothing else", () => {
    const wanted: Record<string, string[]> = {};
    for (const [subpath, target] of Object.entries(checkout.exports)) {
      if (subpath === "." || typeof target === "string") continue;
      if (target.import?.types !== undefined) wanted[subpath.slice(2)] = [target.import.types];
    }
    assert.ok(Object.keys(wanted).length > 0, "exports has typed subpaths");
    assert.deepEqual(
      checkout.typesVersions,
      { "*": wanted },
      "typesVersions disagrees with exports: run node scripts/types-versions.mjs",
    );
  });

  it("agrees with types for the package itself", () => {
    const root = checkout.exports["."];
    assert.ok(typeof root === "object", "exports['.'] is conditional");
    assert.equal(checkout.types, root.import?.types);
  });
});

describe("the packed package.json", () => {
  it("has no scripts: none runs at install, none names a file left out of the package", () => {
    const { manifest } = pack();
    const scripts = (manifest.scripts ?? {}) as Record<string, string>;
    const installTime = INSTALL_TIME.filter((name) => name in scripts);
    assert.deepEqual(installTime, [], `install-time scripts published: ${installTime.join(", ")}`);
    assert.equal(manifest.scripts, undefined, "the packed package.json has a scripts field");
  });

  it("is otherwise the checkout's package.json", () => {
    const { manifest } = pack();
    const { scripts: _scripts, ...rest } = checkout;
    assert.deepEqual(manifest, rest);
  });

  it("names only files the tarball holds (exports, main, module, types, bin)", () => {
    const { manifest, files } = pack();
    const held = new Set(files.map((f) => f.path));
    const named = [
      ...targets(manifest.exports, "exports"),
      ...targets(manifest.typesVersions, "typesVersions"),
      ...(["main", "module", "types"] as const).map((k) => [k, manifest[k]] as [string, unknown]),
      ...targets(manifest.bin, "bin"),
    ];
    for (const [where, path] of named) {
      assert.ok(typeof path === "string", `${where} is a path`);
      assert.ok(held.has(path.replace(/^\.\//, "")), `${where} names ${path}, not in the tarball`);
    }
  });
});

describe("the checkout after npm pack", () => {
  it("gets its package.json back as it was, with prepare for npm ci", () => {
    pack();
    assert.equal(readManifest(), beforePack, "package.json changed by npm pack");
    assert.ok(!existsSync(join(ROOT, "package.json.prepack")), "the prepack copy is left over");
    assert.match(checkout.scripts.prepare ?? "", /scripts\/build\.mjs/);
  });
});
