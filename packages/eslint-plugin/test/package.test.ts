import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

// The package as `npm pack` makes it (its prepack script builds dist), installed the way npm would
// into a scratch project, offline: the tarball extracted into node_modules, its dependencies and
// peers linked from this checkout. A user's eslint.config.js and a TypeScript consumer then use it.

const PACKAGE = fileURLToPath(new URL("../", import.meta.url));
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const RULES = readdirSync(join(PACKAGE, "src/rules")).map((f) => f.replace(/\.ts$/u, ""));

/** This environment without what an enclosing `npm test` adds: npm runs as from a shell. */
function shellEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^npm_/iu.test(key) && key !== "INIT_CWD"),
  );
}

function run(
  command: string,
  args: string[],
  cwd: string,
): { status: number | null; stdout: string; out: string } {
  const r = spawnSync(command, args, {
    cwd,
    env: shellEnv(),
    encoding: "utf8",
    timeout: 180_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  if (r.error !== undefined) throw r.error;
  return { status: r.status, stdout: r.stdout, out: `${r.stdout}${r.stderr}` };
}

interface Packed {
  readonly filename: string;
  readonly files: readonly { path: string }[];
}

describe("the packed eslint-plugin-timebound", () => {
  const scratch = mkdtempSync(join(tmpdir(), "timebound-lint-pack-"));
  after(() => rmSync(scratch, { recursive: true, force: true }));
  const consumer = join(scratch, "consumer");
  let packed: Packed | undefined;

  it("npm pack builds dist and ships the exports' targets, docs, sources and license", () => {
    const r = run("npm", ["pack", "--json", "--pack-destination", scratch], PACKAGE);
    assert.equal(r.status, 0, `npm pack failed:\n${r.out}`);
    // The prepack build prints first; the JSON report starts at a line that is only `[`.
    packed = (JSON.parse(r.stdout.slice(r.stdout.search(/^\[$/mu))) as Packed[])[0]!;
    const paths = new Set(packed.files.map((f) => f.path));
    const manifest = JSON.parse(readFileSync(join(PACKAGE, "package.json"), "utf8")) as {
      exports: Record<string, string | Record<string, string>>;
    };
    const targets = Object.values(manifest.exports).flatMap((t) =>
      typeof t === "string" ? [t] : Object.values(t),
    );
    for (const target of targets) {
      assert.ok(paths.has(posix.normalize(target)), `the tarball holds ${target}`);
    }
    for (const rule of RULES) {
      assert.ok(paths.has(`dist/rules/${rule}.js`), `the tarball holds rule ${rule}`);
      assert.ok(paths.has(`docs/rules/${rule}.md`), `the tarball holds the page of ${rule}`);
    }
    for (const file of ["LICENSE", "README.md"]) assert.ok(paths.has(file), `it holds ${file}`);
    const strays = [...paths].filter((p) => !/^(dist|docs|src)\/|^[^/]+$/u.test(p));
    assert.deepEqual(strays, [], "nothing but dist, docs, src and the top-level files");
    // Every source map leads to a file the tarball holds.
    for (const map of [...paths].filter((p) => p.endsWith(".js.map"))) {
      const { sources } = JSON.parse(readFileSync(join(PACKAGE, map), "utf8")) as {
        sources: string[];
      };
      for (const source of sources) {
        const resolved = posix.normalize(posix.join(posix.dirname(map), source));
        assert.ok(paths.has(resolved), `${map} leads to ${resolved}, which the tarball holds`);
      }
    }
  });

  it("installed from the tarball, a user's eslint.config.js loads it and its rules report", () => {
    assert.ok(packed !== undefined, "the previous test packed the plugin");
    const modules = join(consumer, "node_modules");
    const installed = join(modules, "eslint-plugin-timebound");
    mkdirSync(installed, { recursive: true });
    const tarball = join(scratch, packed.filename);
    const untar = run("tar", ["-xzf", tarball, "-C", installed, "--strip-components=1"], scratch);
    assert.equal(untar.status, 0, `tar failed:\n${untar.out}`);
    for (const dep of [
      "@typescript-eslint",
      "eslint",
      "typescript-eslint",
      "typescript",
      "@types",
    ]) {
      symlinkSync(join(ROOT, "node_modules", dep), join(modules, dep), "dir");
    }
    writeFileSync(
      join(consumer, "package.json"),
      JSON.stringify({ type: "module", private: true }),
    );
    writeFileSync(
      join(consumer, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ["node"],
        },
        include: ["*.ts"],
      }),
    );
    writeFileSync(
      join(consumer, "eslint.config.js"),
      `import tseslint from "typescript-eslint";
import timebound from "eslint-plugin-timebound";

export default [
  {
    files: ["**/*.ts"],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
  },
  timebound.configs.strict,
];
`,
    );
    // A context by shape (timebound itself is not installed here): the typed rules see it.
    writeFileSync(
      join(consumer, "app.ts"),
      `import { sleep, withTimeout } from "timebound";
interface Context {
  readonly signal: AbortSignal;
  readonly done: Promise<void>;
  readonly deadline: number | undefined;
  remaining(): number;
  throwIfDone(): void;
}
export async function get(ctx: Context, url: string) {
  return fetch(url);
}
export async function wait(p: Context) {
  const ctx = withTimeout(p, 5);
  await sleep(ctx, 1);
}
export function late(url: string, ctx: Context) {
  return fetch(url, { signal: ctx.signal });
}
`,
    );
    const eslint = run(
      process.execPath,
      [join(ROOT, "node_modules/eslint/bin/eslint.js"), "--format", "json", "app.ts"],
      consumer,
    );
    const start = eslint.stdout.indexOf("[{");
    assert.ok(start >= 0, `eslint printed its JSON report:\n${eslint.out}`);
    const [result] = JSON.parse(eslint.stdout.slice(start)) as {
      messages: { line: number; ruleId: string | null; message: string }[];
    }[];
    assert.deepEqual(
      result!.messages.map((m) => `${m.line} ${m.ruleId ?? m.message}`),
      [
        "10 timebound/context-propagation",
        "13 timebound/no-lost-cancel",
        "16 timebound/context-first",
      ],
    );
  });

  it("its types compile in a TypeScript consumer", () => {
    writeFileSync(
      join(consumer, "check.ts"),
      `import type { Linter } from "eslint";
import { defineConfig } from "eslint/config";
import tseslint from "typescript-eslint";
import timebound, { type ApiSpec, DEFAULT_APIS, configs, rules } from "eslint-plugin-timebound";

const extra: ApiSpec = { module: "dns/promises", names: ["lookup"], use: "a resolver that takes ctx" };
export const apis: readonly ApiSpec[] = [...DEFAULT_APIS, extra];
// ESLint's own config type, defineConfig, and typescript-eslint's config helper all take them.
export const config: Linter.Config[] = [
  timebound.configs.recommended,
  configs.strict,
  { rules: { "timebound/context-propagation": ["error", { extraApis: [extra] }] } },
];
export const defined = defineConfig([...tseslint.configs.recommendedTypeChecked, configs.recommended]);
export const helped = tseslint.config(...tseslint.configs.recommendedTypeChecked, configs.strict);
export const names: string[] = Object.keys(rules);
`,
    );
    // check.ts alone: app.ts imports timebound, which is not installed here.
    writeFileSync(
      join(consumer, "tsconfig.check.json"),
      JSON.stringify({ extends: "./tsconfig.json", include: [], files: ["check.ts"] }),
    );
    const tsc = run(
      process.execPath,
      [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.check.json"],
      consumer,
    );
    assert.equal(tsc.status, 0, `tsc reported:\n${tsc.out}`);
  });
});
