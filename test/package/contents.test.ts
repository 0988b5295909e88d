// What the tarball holds: only what a user runs or reads, source maps that resolve inside it,
// and a size that does not creep up unnoticed.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join, posix } from "node:path";
import { describe, it } from "node:test";
import { pack } from "./packed.js";

/**
 * Everything the package may hold. The TypeScript sources ship so that the source maps (stack
 * traces under --enable-source-maps) and declaration maps (go to definition) lead to real files;
 * the API reference (docs/api, Markdown) so that the README's link to it works on npm too.
 */
const ALLOWED: readonly RegExp[] = [
  /^package\.json$/,
  /^README\.md$/,
  /^LICENSE$/,
  /^bin\/timebound\.js$/,
  /^dist\/(esm|cjs)\/.+\.(js|d\.ts|js\.map|d\.ts\.map)$/,
  /^dist\/cjs\/package\.json$/,
  /^src\/.+\.ts$/,
  /^docs\/[^/]+\.md$/,
  /^docs\/api\/.+\.md$/,
];

/**
 * Size budget, about 20% above the size when it was last set (measured with `npm pack --json`:
 * 826,014 bytes packed, 4,790,571 unpacked, 1,825 files, after the Redis adapter grew drivers
 * for node-redis 4 and 5 and Redis Cluster; before that 681,063 / 3,965,232 / 1,527). Raised
 * on purpose when timebound/resilience, timebound/fanout, timebound/metrics and the testing
 * faults landed with their docs and API reference: 1,478,884 / 7,830,744 / 3,019. Raise it on
 * purpose, not by drift.
 */
const BUDGET = { packed: 1_800_000, unpacked: 9_400_000 };

interface SourceMap {
  readonly sources: readonly string[];
  readonly sourceRoot?: string;
  readonly sourcesContent?: readonly (string | null)[];
}

describe("the tarball's files", () => {
  it("are only the runtime, its declarations and maps, the sources, the docs", () => {
    const stray = pack()
      .files.map((f) => f.path)
      .filter((path) => !ALLOWED.some((pattern) => pattern.test(path)));
    assert.deepEqual(stray, [], `files that should not be published:\n${stray.join("\n")}`);
  });

  it("include a build for each module system and the sources they were built from", () => {
    const held = new Set(pack().files.map((f) => f.path));
    for (const path of ["dist/esm/index.js", "dist/cjs/index.js", "src/index.ts", "README.md"]) {
      assert.ok(held.has(path), `${path} is not in the tarball`);
    }
  });
});

describe("the tarball's source maps", () => {
  it("name only sources the tarball holds, or carry them inline", () => {
    const { files, dir } = pack();
    const held = new Set(files.map((f) => f.path));
    const maps = files.filter((f) => f.path.endsWith(".map"));
    assert.ok(maps.length > 0, "the tarball has source maps");
    const dangling: string[] = [];
    for (const { path } of maps) {
      const map = JSON.parse(readFileSync(join(dir, path), "utf8")) as SourceMap;
      map.sources.forEach((source, i) => {
        const resolved = posix.normalize(
          posix.join(posix.dirname(path), map.sourceRoot ?? "", source),
        );
        if (!held.has(resolved) && typeof map.sourcesContent?.[i] !== "string") {
          dangling.push(`${path} -> ${resolved}`);
        }
      });
    }
    assert.deepEqual(
      dangling.slice(0, 10),
      [],
      `${dangling.length} map sources are not in the package, e.g.:\n${dangling.slice(0, 10).join("\n")}`,
    );
  });
});

describe("the tarball's size", () => {
  it(`stays within ${BUDGET.packed} bytes packed and ${BUDGET.unpacked} unpacked`, () => {
    const { size, unpackedSize, files } = pack();
    const now = `${size} packed, ${unpackedSize} unpacked, ${files.length} files`;
    assert.ok(size <= BUDGET.packed, `over the packed budget: ${now}`);
    assert.ok(unpackedSize <= BUDGET.unpacked, `over the unpacked budget: ${now}`);
  });
});
