// The API reference: TypeDoc, with its validation on, finds nothing to say about the TSDoc of the
// public entry points (every exported symbol and member documented, every link resolved,
// nothing public that refers to an unexported type); every exported function and class has an
// @example; and docs/api is what `npm run docs` writes now. TypeDoc runs once for all of it (it
// takes about 10 s), in a process of its own, into a temporary folder.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import ts from "typescript";

const ROOT = resolve(import.meta.dirname, "../..");
const COMMITTED = join(ROOT, "docs/api");

interface DocsRun {
  /** What TypeDoc warned about or reported as errors. */
  readonly problems: readonly string[];
  /** Exported functions and classes ("module.name") whose TSDoc has no @example. */
  readonly withoutExample: readonly string[];
}

/** Runs scripts/docs.mjs into `out` and resolves with what it reported. */
function generate(out: string): Promise<DocsRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ["scripts/docs.mjs", "--json", out], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", () => {
      const last = stdout.trimEnd().split("\n").at(-1) ?? "";
      try {
        resolvePromise(JSON.parse(last) as DocsRun);
      } catch {
        reject(new Error(`scripts/docs.mjs gave no report:\n${stdout}\n${stderr}`));
      }
    });
  });
}

/** Every file under `dir`, as paths relative to it, sorted. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((name) => statSync(join(dir, name)).isFile())
    .sort();
}

describe("the API reference (TypeDoc)", () => {
  let out: string;
  let run: DocsRun;

  before(async () => {
    out = mkdtempSync(join(tmpdir(), "timebound-docs-api-"));
    run = await generate(out);
  });

  after(() => rmSync(out, { recursive: true, force: true }));

  it("reports no warning: every export and public member documented, every link resolved", () => {
    assert.deepEqual(run.problems, [], `TypeDoc:\n${run.problems.join("\n")}`);
  });

  it("finds an @example on every exported function and class", () => {
    assert.deepEqual(run.withoutExample, [], "these have no @example in their TSDoc");
  });

  it("docs/api is up to date (else: run npm run docs)", () => {
    const fresh = filesUnder(out);
    const committed = filesUnder(COMMITTED);
    const missing = fresh.filter((f) => !committed.includes(f));
    const extra = committed.filter((f) => !fresh.includes(f));
    const changed = fresh.filter(
      (f) =>
        committed.includes(f) &&
        readFileSync(join(out, f), "utf8") !== readFileSync(join(COMMITTED, f), "utf8"),
    );
    const stale = [
      ...missing.map((f) => `missing: ${f}`),
      ...extra.map((f) => `no longer generated: ${f}`),
      ...changed.map((f) => `changed: ${f}`),
    ];
    assert.deepEqual(stale, [], `docs/api is out of date: run npm run docs\n${stale.join("\n")}`);
  });
});

describe("typedoc.json", () => {
  it("has one entry point per subpath of package.json's exports (but the preload)", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
      exports: Record<string, { import?: { types?: string } } | string>;
    };
    const fromExports = Object.entries(pkg.exports)
      .filter(([subpath]) => subpath !== "./register" && subpath !== "./package.json")
      .map(([, target]) => {
        const types = typeof target === "string" ? target : (target.import?.types ?? "");
        return types.replace(/^\.\/dist\/esm\//, "src/").replace(/\.d\.ts$/, ".ts");
      })
      .sort();
    const read = ts.readConfigFile(join(ROOT, "typedoc.json"), (f) => ts.sys.readFile(f));
    const config = read.config as { entryPoints: string[] };
    assert.deepEqual([...config.entryPoints].sort(), fromExports);
  });
});
