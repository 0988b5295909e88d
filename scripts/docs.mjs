// Generates the API reference, docs/api (Markdown, one module per entry point of package.json's
// "exports"), from the TSDoc of the sources with TypeDoc and typedoc.json, then formats it with
// the repo's prettier settings so that `prettier --check .` accepts it as generated.
// TypeDoc's validation (undocumented or unexported symbols, broken links) fails the run.
// Usage: node scripts/docs.mjs [--json] [out-dir]   (default docs/api; `npm run docs`)
//   --json  quiet; prints the outcome as JSON on the last line of stdout (test/docs reads it)
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as prettier from "prettier";
import {
  Application,
  LogLevel,
  PackageJsonReader,
  ReflectionKind,
  TSConfigReader,
  TypeDocReader,
} from "typedoc";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/**
 * Runs TypeDoc once with typedoc.json into `out` (emptied first) and formats what it wrote.
 * Resolves to the warnings and errors TypeDoc logged (the docs are written even when there are
 * some, so that one run serves every check) and to the exported functions and classes whose
 * doc comment has no `@example`. `quiet` keeps TypeDoc's own log off the console.
 */
async function generateDocs({ out = join(ROOT, "docs/api"), quiet = false } = {}) {
  const problems = [];
  const app = await Application.bootstrapWithPlugins(
    { options: join(ROOT, "typedoc.json"), out: resolve(out) },
    [new TypeDocReader(), new PackageJsonReader(), new TSConfigReader()],
  );
  if (quiet) app.logger.level = LogLevel.None;
  const log = app.logger.log.bind(app.logger);
  app.logger.log = (message, level) => {
    if (level >= LogLevel.Warn) problems.push(stripColors(message));
    log(message, level);
  };
  const project = await app.convert();
  if (project === undefined) {
    return { problems: [...problems, "TypeDoc could not convert the project"], withoutExample: [] };
  }
  app.validate(project);
  await app.generateOutputs(project);
  await formatMarkdown(resolve(out));
  return { problems, withoutExample: withoutExample(project) };
}

/** Exported functions and classes (by "module.name") whose doc comment has no `@example`. */
function withoutExample(project) {
  const kinds = ReflectionKind.Function | ReflectionKind.Class;
  return project
    .getReflectionsByKind(kinds)
    .filter((r) => {
      const comments = [r.comment, ...(r.signatures ?? []).map((s) => s.comment)];
      return !comments.some((c) => c?.blockTags.some((t) => t.tag === "@example"));
    })
    .map((r) => r.getFullName());
}

async function formatMarkdown(dir) {
  for (const name of readdirSync(dir, { recursive: true, encoding: "utf8" })) {
    if (!name.endsWith(".md")) continue;
    const file = join(dir, name);
    // The repo's own settings apply, as if the file sat in docs/api.
    const config = await prettier.resolveConfig(join(ROOT, "docs/api", name));
    const text = readFileSync(file, "utf8");
    writeFileSync(file, await prettier.format(text, { ...config, filepath: file }));
  }
}

function stripColors(text) {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*m/g, "");
}

const args = process.argv.slice(2);
const json = args.includes("--json");
const out = resolve(args.find((arg) => !arg.startsWith("--")) ?? join(ROOT, "docs/api"));
const result = await generateDocs({ out, quiet: json });
const failed = result.problems.length > 0 || result.withoutExample.length > 0;
if (json) {
  // The last line of stdout, for test/docs (TypeDoc may log before it is told to be quiet).
  console.log(JSON.stringify(result));
} else {
  for (const name of result.withoutExample) console.error(`docs: ${name} has no @example`);
  if (failed) {
    const { problems, withoutExample } = result;
    console.error(
      `docs: ${problems.length} TypeDoc problem(s), ${withoutExample.length} without @example`,
    );
  } else {
    console.log(`docs: written to ${out}`);
  }
}
process.exitCode = failed ? 1 : 0;
