import assert from "node:assert/strict";
import { resolve } from "node:path";
import { describe, it } from "node:test";
import {
  describeFailures,
  extractExamples,
  sourceFiles,
  typecheckExamples,
} from "../../docs/examples.js";

const ROOT = resolve(import.meta.dirname, "../../..");

/** What the examples of timebound/redis use without declaring: a client, a context... */
const DECLARATIONS = {
  client: 'import("ioredis").Redis',
  observer: 'import("ioredis").Redis',
  ctx: 'import("timebound").Context',
  parent: 'import("timebound").Context',
  deadLetters: "{ save(item: object): void; push(item: object): void }",
  metrics: "{ gauge(name: string, value: number): void }",
  handle: "(job: string) => void",
  saveSomewhere: "(...data: unknown[]) => void",
};

describe("redis: the TSDoc examples compile (module: nodenext)", () => {
  const examples = extractExamples(sourceFiles(resolve(ROOT, "src/io/redis")));

  it("finds the examples", () => {
    assert.ok(examples.length >= 20, `only ${examples.length} examples found`);
    assert.ok(
      examples.some((e) => e.code.includes('import { Redis } from "ioredis"')),
      "the package documentation's example is among them",
    );
  });

  it("each one typechecks as a module of its own", () => {
    const failures = typecheckExamples(examples, { root: ROOT, declarations: DECLARATIONS });
    assert.equal(failures.length, 0, `\n${describeFailures(failures, ROOT)}`);
  });
});
