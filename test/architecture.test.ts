// The architecture of docs/design.md ("Layers"), checked on every import in src: arrows only
// point down, the core is entered only through its three doors, no layer reaches into
// another's internals, and nothing in the library imports the lab or the benchmarks.
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
const SRC = join(ROOT, "src");

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
