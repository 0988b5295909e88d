// docs/gateway.md is the configuration reference: every key of the JSON Schema is in it.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { it } from "node:test";

const read = (path: string): string => readFileSync(new URL(path, import.meta.url), "utf8");

/** Every property name the schema defines, at any depth. */
function keys(node: unknown, out = new Set<string>()): Set<string> {
  if (typeof node !== "object" || node === null) return out;
  const props = (node as { properties?: Record<string, unknown> }).properties;
  if (props !== undefined) for (const k of Object.keys(props)) out.add(k);
  for (const v of Object.values(node)) keys(v, out);
  return out;
}

it("docs/gateway.md names every key of the configuration schema", () => {
  const schema = JSON.parse(read("../schema/gateway.schema.json")) as unknown;
  const doc = read("../../../docs/gateway.md");
  const all = [...keys(schema)];
  assert.ok(all.length > 50, `the schema's keys were found (${all.length})`);
  const absent = all.filter((k) => !doc.includes(`\`${k}\``));
  assert.deepEqual(absent, [], "keys of the schema missing from docs/gateway.md");
});
