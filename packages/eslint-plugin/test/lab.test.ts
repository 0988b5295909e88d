import * as assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
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

function linter(extra: Linter.Config[] = []): ESLint {
  return new ESLint({
    cwd: PACKAGE,
    overrideConfigFile: true,
    overrideConfig: [
      {
        files: ["**/*.ts"],
        languageOptions: {
          parser: tseslint.parser,
          parserOptions: { projectService: true, tsconfigRootDir: PACKAGE },
        },
      },
      timebound.configs.recommended as Linter.Config,
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
  const eslint = linter();
  const files = readdirSync(FIXTURES).filter((f) => f.endsWith(".ts"));

  it("has a wrong and a right file for every scenario of the lab's registry", () => {
    const registry = readFileSync(`${LAB}registry.ts`, "utf8");
    const scenarios = [...registry.matchAll(/from "\.\/([a-z-]+)\.js"/gu)]
      .map((m) => m[1]!)
      .filter((name) => name !== "scenario");
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
