// The architecture of docs/design.md ("Layers"), checked on every import in src: arrows only
// point down, the core is entered only through its three doors, no layer reaches into
// another's internals, and nothing in the library imports the lab or the benchmarks. The
// benchmarks, in turn, use the library as a user would: public entries, plus introspection and
// the test servers.
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
const SRC = join(ROOT, "src");
const BENCH = join(ROOT, "bench");

/** What each layer may import (besides itself), from docs/design.md. */
const MAY_IMPORT: Record<string, readonly string[]> = {
  core: [],
  sync: ["core"],
  io: ["core", "sync"],
  diagnostics: ["core"],
  resilience: ["core", "sync"],
  fanout: ["core", "sync", "io"],
  metrics: ["core", "resilience", "fanout"],
  testing: ["core", "sync", "io"],
  lab: ["core", "sync", "io", "resilience", "fanout", "metrics", "diagnostics", "testing"],
  cli: ["core", "sync", "io", "resilience", "fanout", "metrics", "diagnostics", "testing", "lab"],
  index: ["core", "sync"], // src/index.ts: the main entry
};

/** The core's doors: the public API, the internal interface, introspection. */
const CORE_DOORS = ["core/index.ts", "core/internal.ts", "core/introspect.ts"];

/** Files of io shared by every adapter (the adapters' common contract). */
const IO_SHARED = ["io/race.ts", "io/own-require.ts"];

interface Edge {
  readonly from: string; // relative to src, e.g. "io/http/client.ts"
  readonly to: string; // relative to src, or a package name
  readonly typeOnly: boolean;
}

function layerOf(path: string): string {
  return path.includes("/") ? path.slice(0, path.indexOf("/")) : "index";
}

/** The adapter an io file belongs to ("io/http"), or undefined for io's shared files. */
function adapterOf(path: string): string | undefined {
  const parts = path.split("/");
  return parts[0] === "io" && parts.length > 2 ? `io/${parts[1]}` : undefined;
}

function edges(): Edge[] {
  const out: Edge[] = [];
  const files = readdirSync(SRC, { recursive: true, encoding: "utf8" }).filter((f) =>
    f.endsWith(".ts"),
  );
  const IMPORT = /^\s*(import|export)\s+(type\s+)?[^;]*?\sfrom\s+"([^"]+)";/gm;
  for (const file of files) {
    const text = readFileSync(join(SRC, file), "utf8");
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[3]!;
      const typeOnly = m[2] !== undefined;
      if (!spec.startsWith(".")) {
        out.push({ from: file, to: spec, typeOnly });
        continue;
      }
      const target = relative(SRC, resolve(dirname(join(SRC, file)), spec)).replace(/\.js$/, ".ts");
      out.push({ from: file, to: target, typeOnly });
    }
  }
  return out;
}

const all = edges();
const local = all.filter((e) => !e.to.startsWith("node:") && e.to.endsWith(".ts"));

describe("architecture (docs/design.md, Layers)", () => {
  it("finds the imports it checks", () => {
    assert.ok(local.length > 300, `only ${local.length} imports between src files found`);
  });

  it("every arrow points down: a layer imports only the layers below it", () => {
    const wrong = local.filter((e) => {
      const from = layerOf(e.from);
      const to = layerOf(e.to);
      return from !== to && !(MAY_IMPORT[from] ?? []).includes(to);
    });
    assert.deepEqual(
      wrong.map((e) => `${e.from} -> ${e.to}`),
      [],
      "imports against the layers",
    );
  });

  it("outside the core, the core is entered only through index, internal and introspect", () => {
    const wrong = local.filter(
      (e) => layerOf(e.from) !== "core" && layerOf(e.to) === "core" && !CORE_DOORS.includes(e.to),
    );
    assert.deepEqual(
      wrong.map((e) => `${e.from} -> ${e.to}`),
      [],
    );
  });

  it("an adapter imports no other adapter's files (only io's shared ones)", () => {
    const wrong = local.filter((e) => {
      const from = adapterOf(e.from);
      const to = adapterOf(e.to);
      return from !== undefined && to !== undefined && from !== to;
    });
    assert.deepEqual(
      wrong.map((e) => `${e.from} -> ${e.to}`),
      [],
    );
    for (const shared of IO_SHARED) {
      assert.ok(
        local.some((e) => e.to === shared),
        `${shared} is used (else drop it from IO_SHARED)`,
      );
    }
  });

  it("nothing in the library imports the lab or the benchmarks", () => {
    const wrong = all.filter(
      (e) =>
        !["lab", "cli"].includes(layerOf(e.from)) &&
        (layerOf(e.to) === "lab" || e.to.startsWith("bench/") || e.to.includes("../bench/")),
    );
    assert.deepEqual(
      wrong.map((e) => `${e.from} -> ${e.to}`),
      [],
    );
  });

  it("the core and the main entry load no package: only Node's builtins", () => {
    const wrong = all.filter(
      (e) =>
        ["core", "sync", "index"].includes(layerOf(e.from)) &&
        !e.to.startsWith("node:") &&
        !e.to.endsWith(".ts"),
    );
    assert.deepEqual(
      wrong.map((e) => `${e.from} -> ${e.to}`),
      [],
    );
  });

  it("an adapter imports only its own driver (importing one subpath loads no other's)", () => {
    const DRIVERS: Record<string, readonly string[]> = {
      "io/http": ["undici", "express", "fastify"],
      "io/pg": ["pg"],
      "io/redis": ["ioredis", "redis"],
      "io/grpc": ["@grpc/grpc-js"],
      "io/process": [],
      "io/stream": [],
    };
    const known = new Set(Object.values(DRIVERS).flat());
    const wrong = all.filter((e) => {
      const adapter = adapterOf(e.from);
      return adapter !== undefined && known.has(e.to) && !(DRIVERS[adapter] ?? []).includes(e.to);
    });
    assert.deepEqual(
      wrong.map((e) => `${e.from} -> ${e.to}`),
      [],
    );
  });
});

/**
 * What the benchmarks may import of the library: the source of every public subpath entry (from
 * package.json's "exports"), the core's introspection, the test servers of src/testing, and the
 * public entry of each package under packages/.
 */
function benchMayImport(path: string): boolean {
  if (path.startsWith("src/testing/") || path === "src/core/introspect.ts") return true;
  if (/^packages\/[^/]+\/src\/index\.ts$/.test(path)) return true;
  return publicEntries().has(path);
}

/** src/index.ts, src/io/http/index.ts...: the sources of package.json's "exports". */
function publicEntries(): Set<string> {
  const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
    exports: Record<string, string | { import?: { default?: string } }>;
  };
  const entries = new Set<string>();
  for (const target of Object.values(manifest.exports)) {
    const file = typeof target === "string" ? undefined : target.import?.default;
    const m = file === undefined ? null : /^\.\/dist\/esm\/(.+)\.js$/.exec(file);
    if (m !== null) entries.add(`src/${m[1]!}.ts`);
  }
  return entries;
}

/** Every import of a .ts file under bench (static and `import("...")`), relative to the root. */
function benchEdges(): { from: string; to: string }[] {
  const out: { from: string; to: string }[] = [];
  const files = readdirSync(BENCH, { recursive: true, encoding: "utf8" }).filter((f) =>
    f.endsWith(".ts"),
  );
  const IMPORT = /(?:^\s*(?:import|export)\s+(?:type\s+)?[^;]*?\sfrom\s+|\bimport\()"([^"]+)"/gm;
  for (const file of files) {
    const text = readFileSync(join(BENCH, file), "utf8");
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1]!;
      if (!spec.startsWith(".")) continue;
      const target = relative(ROOT, resolve(dirname(join(BENCH, file)), spec));
      out.push({ from: `bench/${file}`, to: target.replace(/\.js$/, ".ts") });
    }
  }
  return out;
}

describe("architecture: the benchmarks", () => {
  const edges = benchEdges();
  const library = edges.filter((e) => !e.to.startsWith("bench/"));

  it("finds the imports it checks", () => {
    assert.ok(library.length > 10, `only ${library.length} imports of the library found in bench`);
    assert.ok(publicEntries().has("src/io/process/index.ts"), "the public entries are read");
  });

  it("import only public entries, core/introspect and src/testing", () => {
    const wrong = library.filter((e) => !benchMayImport(e.to));
    assert.deepEqual(
      wrong.map((e) => `${e.from} -> ${e.to}`),
      [],
      "benchmarks reaching into the library's internals",
    );
  });
});
