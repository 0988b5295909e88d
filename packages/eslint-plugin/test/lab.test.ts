import * as assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { relative } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { ESLint, type Linter } from "eslint";
import tseslint from "typescript-eslint";
import timebound from "../src/index.js";

// End to end: ESLint's API with the plugin's recommended config over the lab's scenarios as a
// user would write them (test/fixtures/lab), then over the lab's own sources (src/lab).

const PACKAGE = fileURLToPath(new URL("../", import.meta.url));
const FIXTURES = fileURLToPath(new URL("fixtures/lab/", import.meta.url));
const LAB = fileURLToPath(new URL("../../../src/lab/", import.meta.url));

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

function linter(cwd: string, extra: Linter.Config[] = []): ESLint {
  return new ESLint({
    cwd,
    overrideConfigFile: true,
    overrideConfig: [
      {
        files: ["**/*.ts"],
        languageOptions: {
          parser: tseslint.parser,
          parserOptions: { projectService: true, tsconfigRootDir: PACKAGE },
        },
        // The lab's own files disable rules of the repo's config, which is not loaded here.
        linterOptions: { reportUnusedDisableDirectives: "off" },
      },
      timebound.configs.recommended,
      ...extra,
    ],
  });
}

/** "line rule" for each `// ❌ timebound/<rule> ...` marker, once per rule named. */
function planted(source: string): string[] {
  return source.split("\n").flatMap((text, index) => {
    const marker = /\/\/ ❌ (.*)$/u.exec(text);
    return marker === null
      ? []
      : marker[1]!
          .trim()
          .split(/\s+/u)
          .map((rule) => `${index + 1} ${rule}`);
  });
}

/** "line rule" for each report (a parse error shows as `line null`, and fails the comparison). */
function reported(result: ESLint.LintResult): string[] {
  return result.messages.map((m) => `${m.line} ${m.ruleId ?? `null: ${m.message}`}`);
}

const sorted = (list: string[]): string[] => [...list].sort();

describe("the recommended config on the lab's scenarios, as a user would write them", () => {
  const eslint = linter(PACKAGE);
  const files = readdirSync(FIXTURES).filter((f) => f.endsWith(".ts"));

  it("has a wrong and a right file for every scenario of the lab's registry", () => {
    const registry = readFileSync(`${LAB}registry.ts`, "utf8");
    // three-tier, fan-out and gateway compare protection strategies: their "wrong" variants are
    // configurations (no retry, static timeouts), not code a lint rule can see.
    const strategies = ["scenario", "three-tier", "fan-out", "gateway"];
    const scenarios = [...registry.matchAll(/from "\.\/([a-z-]+)\.js"/gu)]
      .map((m) => m[1]!)
      .filter((name) => !strategies.includes(name));
    assert.ok(scenarios.length >= 10, `the registry lists ${scenarios.length} scenarios`);
    for (const scenario of scenarios) {
      assert.ok(files.includes(`${scenario}.wrong.ts`), `a wrong fixture for ${scenario}`);
      assert.ok(files.includes(`${scenario}.right.ts`), `a right fixture for ${scenario}`);
    }
  });

  for (const file of files.filter((f) => f.endsWith(".wrong.ts"))) {
    it(`reports each planted mistake of ${file} at its line, and nothing else`, async () => {
      const [result] = await eslint.lintFiles([`${FIXTURES}${file}`]);
      const expected = planted(readFileSync(`${FIXTURES}${file}`, "utf8"));
      assert.ok(expected.length > 0, `${file} plants at least one mistake`);
      assert.deepEqual(sorted(reported(result!)), sorted(expected));
    });
  }

  for (const file of files.filter((f) => f.endsWith(".right.ts"))) {
    it(`reports nothing in ${file}`, async () => {
      const [result] = await eslint.lintFiles([`${FIXTURES}${file}`]);
      assert.deepEqual(reported(result!), []);
    });
  }
});

describe("the recommended config on the lab's own sources (src/lab)", () => {
  // The lab imports the core by relative path; these tell the rules those modules are timebound.
  const sources = ["^timebound(/|$)", "^\\.\\./(core|sync)/"];
  const eslint = linter(ROOT, [
    {
      rules: {
        "timebound/no-lost-cancel": ["error", { sources }],
        "timebound/no-new-root-context": ["error", { sources }],
      },
      // Once the repo lints itself with the plugin, the wrong variants carry disable comments
      // that say why; this test checks what the rules see under them.
      linterOptions: { noInlineConfig: true },
    },
  ]);

  /** Lines of `file` from its `❌` doc comment to its next `✅` one: the wrong variant. */
  function wrongVariant(source: string): { from: number; to: number } {
    const lines = source.split("\n");
    const from = lines.findIndex((l) => l.includes("/** ❌")) + 1;
    const to = lines.findIndex((l, i) => i >= from && l.includes("/** ✅")) + 1;
    assert.ok(from > 0 && to > from, "the file marks its wrong and right variants");
    return { from, to };
  }

  it("flags the wrong variants the lab writes in a function that has a context", async (t) => {
    // The lab's hand-made timeout now lives in src/testing (the lab re-exports it).
    const results = await eslint.lintFiles([LAB, `${LAB}../testing/race-timer.ts`]);
    const byFile = new Map(
      results.map((r) => [relative(LAB, r.filePath), r.messages.filter((m) => m.ruleId !== null)]),
    );
    for (const r of results) {
      for (const m of r.messages)
        t.diagnostic(`${r.filePath.slice(LAB.length)}:${m.line} ${m.ruleId}`);
    }
    const expectations: [file: string, rule: string][] = [
      ["missing-cancel.ts", "timebound/no-lost-cancel"],
      ["leak-rate.ts", "timebound/no-lost-cancel"],
      ["fetch-signal.ts", "timebound/context-propagation"],
    ];
    for (const [file, rule] of expectations) {
      const { from, to } = wrongVariant(readFileSync(`${LAB}${file}`, "utf8"));
      const hits = (byFile.get(file) ?? []).filter(
        (m) => m.ruleId === rule && m.line >= from && m.line < to,
      );
      assert.equal(
        hits.length,
        1,
        `${rule} reports the wrong variant of ${file} (lines ${from}-${to})`,
      );
    }
    // The hand-made timeout that the http-fetch, pg-query and redis-blocking wrong variants call.
    const race =
      readFileSync(`${LAB}../testing/race-timer.ts`, "utf8")
        .split("\n")
        .findIndex((l) => l.includes("Promise.race")) + 1;
    const raced = (byFile.get("../testing/race-timer.ts") ?? []).filter(
      (m) => m.ruleId === "timebound/no-race-timeout",
    );
    assert.deepEqual(
      raced.map((m) => m.line),
      [race],
    );
  });
});
