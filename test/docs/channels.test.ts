// The channel catalogue (docs/diagnostics-channels.md) lists every `timebound:*` diagnostics
// channel of the sources, and only those. A channel is found where it is named in full
// ("timebound:pg:cancel"); a family whose names are built in code ("timebound:resilience:" +
// kind) is found by its prefix, and each of its members listed in the doc must have its last part
// written as a string in that layer's sources.
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SRC = join(ROOT, "src");

/** A full channel name in quotes: "timebound:layer:name" (or with ' or `). */
const FULL = /["'`](timebound:[a-z]+(?::[a-z][a-z-]*)+)["'`]/g;
/** A prefix that code completes: "timebound:layer:" + x, or `timebound:layer:${x}`. */
const PREFIX = /["'`](timebound:[a-z]+:)(?:["'`]|\$\{)/g;
/** A channel name as the doc writes it, in backquotes. */
const IN_DOC = /`(timebound:[a-z]+(?::[a-z][a-z-]*)+)`/g;

interface SourceFile {
  readonly path: string;
  readonly text: string;
}

function sources(): SourceFile[] {
  return readdirSync(SRC, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts"))
    .map((f) => ({ path: f, text: readFileSync(join(SRC, f), "utf8") }));
}

const files = sources();
/** Channels named in full, in code (not in comments: those name channels, they do not make them). */
const named = new Set(files.flatMap((f) => [...code(f.text).matchAll(FULL)].map((m) => m[1]!)));
const families = new Set(
  files.flatMap((f) => [...code(f.text).matchAll(PREFIX)].map((m) => m[1]!)),
);

/** `text` without its comments (line and block), roughly: enough for string literals in code. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
}

const doc = readFileSync(join(ROOT, "docs", "diagnostics-channels.md"), "utf8");
const documented = new Set([...doc.matchAll(IN_DOC)].map((m) => m[1]!));

/** Whether `name` belongs to a family built in code and its last part is a string there. */
function builtInCode(name: string): boolean {
  const family = [...families].find((prefix) => name.startsWith(prefix));
  if (family === undefined) return false;
  const member = name.slice(family.length);
  const layer = family.split(":")[1]!;
  return files.some((f) => f.path.startsWith(`${layer}/`) && code(f.text).includes(`"${member}"`));
}

describe("docs/diagnostics-channels.md", () => {
  it("finds the channels it checks", () => {
    assert.ok(named.has("timebound:context:created"), "the core's channels are found");
    assert.ok(named.size + families.size >= 8, `only ${named.size} channels found`);
  });

  it("lists every channel the sources name", () => {
    const missing = [...named].filter((name) => !documented.has(name)).sort();
    assert.deepEqual(missing, [], `channels missing from the doc: ${missing.join(", ")}`);
  });

  it("lists members for every family of channels built from names", () => {
    const empty = [...families].filter((f) => ![...documented].some((n) => n.startsWith(f)));
    assert.deepEqual(empty, [], `families with no channel in the doc: ${empty.join(", ")}`);
  });

  it("lists no channel the sources no longer have", () => {
    const stale = [...documented].filter((n) => !named.has(n) && !builtInCode(n)).sort();
    assert.deepEqual(stale, [], `channels in the doc that no source makes: ${stale.join(", ")}`);
  });
});
