// The packed declarations, as TypeScript consumers with the usual settings see them: strict
// nodenext (an ES module file and a CommonJS file), the classic node10 resolution, and a project
// without esModuleInterop. Declarations are checked too (skipLibCheck: false).
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ROOT, consumer, run } from "./packed.js";

const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");
/** The packages whose types the declarations name, linked as a consumer would install them. */
const TYPE_LINKS = ["@types/node", "@types/pg", "pg", "ioredis", "@grpc/grpc-js", "undici"];

/** Uses one export of every subpath, each where its type is checked. */
const USE_EVERY_SUBPATH = `
import { background, withTimeout, sleep, DeadlineExceeded, type Context } from "timebound";
import { encodeTimeout, fetch } from "timebound/http";
import { query } from "timebound/pg";
import { command } from "timebound/redis";
import { callOptions } from "timebound/grpc";
import { execFile } from "timebound/process";
import { pipeline } from "timebound/stream";
import { retry, timeout, pipeline as policies } from "timebound/resilience";
import { allocateBudget } from "timebound/fanout";
import { freePort } from "timebound/testing";
import { snapshot } from "timebound/diagnostics";
import "timebound/register";
import type { Pool } from "pg";
import type { Redis } from "ioredis";

export async function handle(parent: Context, pool: Pool, redis: Redis): Promise<number> {
  const ctx = withTimeout(parent, 500, { name: "checkout" });
  try {
    await sleep(ctx, 100);
    const res: Response = await fetch(ctx, "http://127.0.0.1:8080/", { method: "GET" });
    const header: string = encodeTimeout(ctx.remaining());
    const { rows } = await query<{ id: number }>(ctx, pool, "SELECT $1::int AS id", [1]);
    const reply: unknown = await command(ctx, redis, "get", header);
    await execFile(ctx, "true", []);
    const port: number = await freePort();
    const tries: string = await policies(retry({ maxAttempts: 2 }), timeout(100)).execute(ctx, () => "ok");
    const budgets = allocateBudget(100, [{ name: "a", p95Ms: 10, weight: 1, loadFactor: 1 }]);
    void [reply, callOptions(ctx), pipeline, snapshot(), tries, budgets];
    return res.status + (rows[0]?.id ?? 0) + port;
  } catch (err) {
    if (err instanceof DeadlineExceeded) return -1;
    throw err;
  } finally {
    ctx.cancel();
  }
}

export const root: Context = background();
`;

/** The README's example: \`using\` a context, as a strict ES2022 project writes it. */
const README_EXAMPLE = `
import { type Context, background, withTimeout, sleep, DeadlineExceeded } from "timebound";

export async function handleWithUsing(parent: Context, url: string): Promise<void> {
  using ctx = withTimeout(parent, 500, { name: "checkout" });
  await sleep(ctx, 100);
  const res = await fetch(url, { signal: ctx.signal });
  void res;
}

try {
  await handleWithUsing(background(), "http://127.0.0.1:8080/");
} catch (err) {
  if (err instanceof DeadlineExceeded) console.warn(err.message);
}
`;

const BASE_OPTIONS = {
  strict: true,
  target: "ES2022",
  lib: ["ES2023", "ESNext.Disposable"],
  types: ["node"],
  noEmit: true,
  skipLibCheck: false,
};

interface Checked {
  /** "file(line,col): error TSnnnn: message" lines. */
  readonly errors: string[];
  /** Every file the compiler read. */
  readonly files: string[];
}

/** Type-checks a scratch consumer project made of `files` with these compiler options. */
function typecheck(
  name: string,
  compilerOptions: Record<string, unknown>,
  files: Record<string, string>,
  packageJson: Record<string, unknown> = {},
): Checked {
  const tsconfig = { compilerOptions: { ...BASE_OPTIONS, ...compilerOptions } };
  const project = consumer(name, {
    links: TYPE_LINKS,
    files: {
      ...files,
      "tsconfig.json": JSON.stringify({ ...tsconfig, files: Object.keys(files) }, null, 2),
      "package.json": JSON.stringify({ name: `consumer-${name}`, private: true, ...packageJson }),
    },
  });
  const r = run(process.execPath, [TSC, "-p", ".", "--listFiles", "--pretty", "false"], {
    cwd: project,
    timeoutMs: 180_000,
  });
  const lines = r.stdout.split("\n");
  const errors = lines.filter((line) => / error TS\d+:/.test(line));
  assert.ok(r.status === 0 || errors.length > 0, `tsc failed without errors:\n${r.stdout}`);
  return { errors, files: lines.filter((line) => line.startsWith("/")) };
}

/** The source a declaration error's file was built from (src/…/x.ts), if it is timebound's. */
function sourceOf(error: string): string | undefined {
  const built = /node_modules\/timebound\/dist\/(?:esm|cjs)\/(.+?)\.d\.ts\(/.exec(error)?.[1];
  return built === undefined ? undefined : `src/${built}.ts`;
}

/** The errors, with the sources of timebound's declarations they fall in. */
function explain(errors: readonly string[]): string {
  const sources = new Set(errors.map(sourceOf).filter((source) => source !== undefined));
  return `${errors.length} errors, in declarations built from: ${[...sources].join(", ")}\n${errors.join("\n")}`;
}

const read = (checked: Checked, path: string): boolean =>
  checked.files.some((file) => file.endsWith(`/node_modules/timebound/${path}`));

describe("a strict nodenext TypeScript consumer", () => {
  it("typechecks an ES module file against dist/esm and a CommonJS file against dist/cjs", () => {
    const checked = typecheck(
      "nodenext",
      { module: "nodenext", moduleResolution: "nodenext" },
      { "esm.ts": USE_EVERY_SUBPATH, "cjs.cts": USE_EVERY_SUBPATH, "readme.ts": README_EXAMPLE },
      { type: "module" },
    );
    assert.deepEqual(checked.errors, [], explain(checked.errors));
    assert.ok(read(checked, "dist/esm/io/http/index.d.ts"), "esm.ts read dist/esm's types");
    assert.ok(read(checked, "dist/cjs/io/http/index.d.ts"), "cjs.cts read dist/cjs's types");
  });
});

describe("a TypeScript consumer with moduleResolution node10", () => {
  it("finds every subpath's types (through typesVersions) and typechecks", () => {
    const checked = typecheck(
      "node10",
      { module: "commonjs", moduleResolution: "node10", esModuleInterop: true },
      { "index.ts": USE_EVERY_SUBPATH },
    );
    assert.deepEqual(checked.errors, [], explain(checked.errors));
    assert.ok(read(checked, "dist/esm/io/http/index.d.ts"), "timebound/http's types were read");
  });
});

describe("a TypeScript consumer without esModuleInterop", () => {
  let checked: Checked | undefined;
  const withoutInterop = (): Checked =>
    (checked ??= typecheck(
      "no-interop",
      {
        module: "commonjs",
        moduleResolution: "node10",
        esModuleInterop: false,
        allowSyntheticDefaultImports: false,
      },
      { "index.ts": USE_EVERY_SUBPATH },
    ));

  it("typechecks: no declaration imports a module's default export", () => {
    const { errors } = withoutInterop();
    assert.deepEqual(errors, [], explain(errors));
  });
});
