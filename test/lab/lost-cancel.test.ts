// The lab's right variants and its own plumbing are the pattern timebound teaches: every context
// they derive is disposed with `using` or cancelled on every path. eslint-plugin-timebound's
// no-lost-cancel checks that by code path analysis; only a wrong variant (from its `/** ❌`
// comment to the next `/** ✅`) may plant a lost cancel.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { ESLint } from "eslint";
import tseslint from "typescript-eslint";
import timebound from "../../packages/eslint-plugin/src/index.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const LAB = fileURLToPath(new URL("../../src/lab/", import.meta.url));

/** Line ranges [from, to) of the wrong variants of a file: `/** ❌` up to the next `/** ✅`. */
function wrongVariants(source: string): { from: number; to: number }[] {
  const lines = source.split("\n");
  const ranges: { from: number; to: number }[] = [];
  lines.forEach((line, i) => {
    if (!line.includes("/** ❌")) return;
    const right = lines.findIndex((l, j) => j > i && l.includes("/** ✅"));
    ranges.push({ from: i + 1, to: right === -1 ? lines.length + 1 : right + 1 });
  });
  return ranges;
}

describe("lab: no lost cancel outside the wrong variants", () => {
  it("no-lost-cancel reports only lines of the wrong variants in src/lab", async () => {
    const eslint = new ESLint({
      cwd: ROOT,
      overrideConfigFile: true,
      overrideConfig: [
        {
          files: ["**/*.ts"],
          languageOptions: {
            parser: tseslint.parser,
            parserOptions: { projectService: true, tsconfigRootDir: ROOT },
          },
          // The wrong variants carry disable comments for the repo's own lint: ignored here, so
          // that their planted lost cancels are still found.
          linterOptions: { noInlineConfig: true, reportUnusedDisableDirectives: "off" },
        },
        {
          plugins: timebound.configs.recommended.plugins,
          // The lab imports the core by relative path: these modules are timebound's.
          rules: {
            "timebound/no-lost-cancel": ["error", { sources: ["^\\.\\./(core|sync)/"] }],
          },
        },
      ],
    });
    const results = await eslint.lintFiles([LAB]);
    const outside: string[] = [];
    let planted = 0;
    for (const result of results) {
      const ranges = wrongVariants(readFileSync(result.filePath, "utf8"));
      for (const m of result.messages) {
        if (m.ruleId === null && /noInlineConfig/.test(m.message)) continue; // the comments above
        assert.equal(m.ruleId, "timebound/no-lost-cancel", `${result.filePath}: ${m.message}`);
        if (ranges.some((r) => m.line >= r.from && m.line < r.to)) planted++;
        else outside.push(`${relative(LAB, result.filePath)}:${m.line} ${m.message}`);
      }
    }
    assert.deepEqual(outside, [], "a lost cancel outside the lab's wrong variants");
    // missing-cancel and leak-rate plant one each: the rule did run.
    assert.ok(planted >= 2, `the wrong variants' lost cancels were found (${planted})`);
  });
});
