// `request.ctx` is typed for Fastify users: the fixture, written as a user would, compiles
// against the declarations timebound/http ships (emitted here in memory; against the sources,
// the project typecheck compiles it), and a program that does not use Fastify does not need it.
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const fixture = join(root, "test/io/http/fixtures/fastify-request-ctx.ts");
/** Where the emitted declarations seem to be: inside the repository, so that its node_modules resolve. */
const shipped = join(root, ".typecheck-virtual");

function projectOptions(): ts.CompilerOptions {
  const file = ts.readConfigFile(join(root, "tsconfig.json"), (p) => ts.sys.readFile(p));
  return ts.parseJsonConfigFileContent(file.config, ts.sys, root).options;
}

/**
 * The program's problems in the files under `shipped` (the declarations and the user's file):
 * checking all of @types/node and Fastify's types again would take most of the test's time.
 */
function problems(program: ts.Program): string[] {
  const ours = program.getSourceFiles().filter((f) => f.fileName.startsWith(shipped));
  return [
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...ours.flatMap((f) => [
      ...program.getSyntacticDiagnostics(f),
      ...program.getSemanticDiagnostics(f),
    ]),
  ]
    .map(
      (d) => `${d.file?.fileName ?? ""}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`,
    )
    .map((text, i, all) => `${i + 1}/${all.length}: ${text}`);
}

/** A compiler host that also serves `files` (absolute path -> text), as if they were on disk. */
function hostWith(options: ts.CompilerOptions, files: Map<string, string>): ts.CompilerHost {
  const disk = ts.createCompilerHost(options);
  const dirs = new Set([...files.keys()].flatMap((f) => ancestors(dirname(f))));
  return {
    ...disk,
    fileExists: (f) => files.has(f) || disk.fileExists(f),
    readFile: (f) => files.get(f) ?? disk.readFile(f),
    directoryExists: (d) => dirs.has(d) || (disk.directoryExists?.(d) ?? false),
    getSourceFile: (f, language, onError) => {
      const text = files.get(f);
      if (text !== undefined) return ts.createSourceFile(f, text, language);
      let parsed = parsedFiles.get(f);
      if (parsed === undefined) {
        parsed = disk.getSourceFile(f, language, onError);
        if (parsed !== undefined) parsedFiles.set(f, parsed);
      }
      return parsed;
    },
  };
}

/** Files on disk (@types/node, Fastify's types) parsed once for all the programs. */
const parsedFiles = new Map<string, ts.SourceFile>();

function ancestors(dir: string): string[] {
  const out: string[] = [];
  for (let d = dir; d.startsWith(root); d = dirname(d)) out.push(d);
  return out;
}

describe("timebound/http types: request.ctx on Fastify", () => {
  it("types request.ctx for a Fastify user of the shipped declarations; a program without Fastify does not load them", () => {
    const options = projectOptions();
    const files = new Map<string, string>();
    const emitOptions: ts.CompilerOptions = {
      ...options,
      noEmit: false,
      declaration: true,
      emitDeclarationOnly: true,
      noCheck: true, // the project typecheck checks the sources; this is about what ships
      rootDir: join(root, "src"),
      outDir: shipped,
    };
    const emit = ts.createProgram(
      [join(root, "src/index.ts"), join(root, "src/io/http/index.ts")],
      emitOptions,
      hostWith(emitOptions, files),
    );
    const emitted = emit.emit(undefined, (file, text) => files.set(file, text));
    assert.equal(emitted.emitSkipped, false, "declarations were emitted");
    const declaration = files.get(join(shipped, "io/http/fastify.d.ts")) ?? "";
    assert.match(declaration, /declare module "fastify"/);
    assert.doesNotMatch(declaration, /from "fastify"/, "no import of Fastify in what ships");

    const strict = { ...options, noEmit: true, skipLibCheck: false };
    const user = join(shipped, "user.ts");
    files.set(
      user,
      fixtureSource()
        .replaceAll("../../../../src/io/http/", "./io/http/")
        .replaceAll("../../../../src/index.js", "./index.js"),
    );
    const fastifyUser = ts.createProgram([user], strict, hostWith(strict, files));
    assert.deepEqual(problems(fastifyUser), []);

    const other = join(shipped, "other.ts");
    files.set(
      other,
      'import { expressContext } from "./io/http/index.js";\nexport const mw = expressContext();\n',
    );
    const expressUser = ts.createProgram([other], strict, hostWith(strict, files));
    assert.deepEqual(problems(expressUser), []);
    const loaded = expressUser.getSourceFiles().filter((f) => f.fileName.includes("/fastify/"));
    assert.deepEqual(
      loaded.map((f) => f.fileName),
      [],
      "Fastify's types are not loaded",
    );
  });
});

function fixtureSource(): string {
  return ts.sys.readFile(fixture) ?? "";
}
