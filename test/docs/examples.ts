// The TypeScript code blocks of the TSDoc `@example`s in source files (and of Markdown files such
// as the README), extracted and typechecked as a user would compile them: each example is a module
// of its own under `module: nodenext`, importing the library by its package name ("timebound",
// "timebound/redis"...), which resolves to the sources. All of them go into one program. Names an
// example uses without declaring are supplied: a name exported by the entry point its file
// belongs to is imported from there; then globals (`fetch`, `console`) are left alone; then a
// name another entry point or the example's own file exports is imported; the caller declares
// the rest (`client`, `ctx`...) with a type, and free type names (`Job`) with a definition.
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import ts from "typescript";

/** One fenced TypeScript block of an `@example`. */
export interface Example {
  /** Absolute path of the source file. */
  readonly file: string;
  /** 1-based line of the block's first code line in `file`. */
  readonly line: number;
  readonly code: string;
}

/** An example that does not compile, with the compiler's messages (lines of the source file). */
export interface ExampleFailure {
  readonly example: Example;
  readonly messages: readonly string[];
}

export interface CheckOptions {
  /** The package root (its package.json names the entry points). */
  readonly root: string;
  /** Names examples may use undeclared, with their types: `{ ctx: 'import("timebound").Context' }`. */
  readonly declarations?: Readonly<Record<string, string>>;
  /** Type names examples may use undeclared, with their definitions: `{ Job: "{ id: string }" }`. */
  readonly types?: Readonly<Record<string, string>>;
  /**
   * Declarations for the examples of some files only, by path prefix (relative to `root`),
   * over `declarations`: `{ "src/io/grpc/": { client: "..." } }`.
   */
  readonly scoped?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/** Every `.ts` file under `dir`, recursively (no `.d.ts`). */
export function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
    .map((f) => resolve(dir, f))
    .sort();
}

/** The fenced ```ts (or ```typescript) blocks of every `@example` in `files`' doc comments. */
export function extractExamples(files: readonly string[]): Example[] {
  const examples: Example[] = [];
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    for (const comment of text.matchAll(/\/\*\*[\s\S]*?\*\//g)) {
      const startLine = lineAt(text, comment.index);
      const lines = comment[0].split("\n").map((l) => l.replace(/^\s*\*? ?/, ""));
      let inExample = false;
      for (let i = 0; i < lines.length; i++) {
        const tag = /^@(\w+)/.exec(lines[i]!.trim());
        if (tag !== null) inExample = tag[1] === "example";
        if (!inExample || !/^```(ts|typescript)\s*$/.test(lines[i]!.trim())) continue;
        const end = lines.findIndex((l, j) => j > i && l.trim().startsWith("```"));
        if (end === -1) continue;
        examples.push({
          file,
          line: startLine + i + 1,
          code: lines.slice(i + 1, end).join("\n"),
        });
        i = end;
      }
    }
  }
  return examples;
}

/** The fenced ```ts (or ```typescript) blocks of Markdown `files`, each taken as an example. */
export function extractMarkdownExamples(files: readonly string[]): Example[] {
  const examples: Example[] = [];
  for (const file of files) {
    const lines = readFileSync(file, "utf8").split("\n");
    for (let i = 0; i < lines.length; i++) {
      const fence = /^(\s*)(`{3,})(ts|typescript)\s*$/.exec(lines[i]!);
      if (fence === null) continue;
      const end = lines.findIndex((l, j) => j > i && l.trim() === fence[2]);
      if (end === -1) continue;
      examples.push({ file, line: i + 2, code: lines.slice(i + 1, end).join("\n") });
      i = end;
    }
  }
  return examples;
}

function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/**
 * Typechecks each example as its own ES module under `module: nodenext` (with the project's
 * other compiler options: strict and so on). Returns the examples that do not compile.
 */
export function typecheckExamples(
  examples: readonly Example[],
  options: CheckOptions,
): ExampleFailure[] {
  const root = resolve(options.root);
  const entries = packageEntries(root);
  const compilerOptions: ts.CompilerOptions = {
    ...projectOptions(root),
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    noEmit: true,
    // About the project's own style, not about whether a user's code compiles.
    verbatimModuleSyntax: false,
    isolatedModules: false,
    noUnusedLocals: false,
    noUnusedParameters: false,
    paths: Object.fromEntries([...entries].map(([specifier, file]) => [specifier, [file]])),
  };
  const sources = [...new Set(examples.map((e) => e.file))].filter((f) => f.endsWith(".ts"));
  const names = exportedNames([...entries.values(), ...sources], compilerOptions);
  const supplied: Supplied = {
    entries,
    ...names,
    declarations: options.declarations ?? {},
    types: options.types ?? {},
    scoped: Object.entries(options.scoped ?? {}).map(([prefix, d]) => [join(root, prefix), d]),
  };

  const virtual = new Map<string, { example: Example; prelude: number; text: string }>();
  examples.forEach((example, i) => {
    const prelude = preludeFor(example, supplied);
    const name = join(root, "test/docs/.examples", `${relative(root, example.file)}.${i}.mts`);
    const text = `${prelude.join("\n")}\n${example.code}\nexport {};\n`;
    // The code's first line: after the prelude's lines, or after the empty first line.
    virtual.set(name, { example, prelude: Math.max(prelude.length, 1), text });
  });

  const base = ts.createCompilerHost(compilerOptions);
  const host: ts.CompilerHost = {
    ...base,
    fileExists: (f) => virtual.has(f) || base.fileExists(f),
    readFile: (f) => virtual.get(f)?.text ?? base.readFile(f),
    getSourceFile: (f, language, ...rest) => {
      const v = virtual.get(f);
      if (v !== undefined) return ts.createSourceFile(f, v.text, language, true);
      return base.getSourceFile(f, language, ...rest);
    },
  };
  // The first program's source files (the library, Node's types) are reused, not parsed again.
  const program = ts.createProgram([...virtual.keys()], compilerOptions, host, names.program);
  const failures: ExampleFailure[] = [];
  for (const [name, { example, prelude }] of virtual) {
    const sourceFile = program.getSourceFile(name);
    if (sourceFile === undefined) throw new Error(`typecheckExamples: ${name} was not loaded`);
    const diagnostics = [
      ...program.getSyntacticDiagnostics(sourceFile),
      ...program.getSemanticDiagnostics(sourceFile),
    ];
    if (diagnostics.length === 0) continue;
    const messages = diagnostics.map((d) => {
      const text = ts.flattenDiagnosticMessageText(d.messageText, "\n");
      if (d.start === undefined) return `TS${d.code}: ${text}`;
      const { line } = sourceFile.getLineAndCharacterOfPosition(d.start);
      const at = line < prelude ? "(prelude)" : `line ${example.line + line - prelude}`;
      return `${at}: TS${d.code}: ${text}`;
    });
    failures.push({ example, messages });
  }
  return failures;
}

/** One readable report of `failures`, for an assertion message. */
export function describeFailures(failures: readonly ExampleFailure[], root: string): string {
  return failures
    .map(({ example, messages }) => {
      const where = `${relative(root, example.file)}:${example.line}`;
      const code = example.code.replace(/^/gm, "    | ");
      return `${where}\n${code}\n${messages.map((m) => `    ${m}`).join("\n")}`;
    })
    .join("\n\n");
}

/** The project's compiler options (tsconfig.json at `root`). */
function projectOptions(root: string): ts.CompilerOptions {
  const configFile = join(root, "tsconfig.json");
  const read = ts.readConfigFile(configFile, (f) => ts.sys.readFile(f));
  if (read.error !== undefined) {
    throw new Error(ts.flattenDiagnosticMessageText(read.error.messageText, "\n"));
  }
  return ts.parseJsonConfigFileContent(read.config, ts.sys, dirname(configFile)).options;
}

/**
 * The package's import specifiers ("timebound", "timebound/redis"...) and the source file each
 * stands for: package.json's `exports`, their ESM types (dist/esm/X.d.ts) mapped to src/X.ts.
 */
function packageEntries(root: string): Map<string, string> {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
    name: string;
    exports: Record<string, { import?: { types?: string } } | string>;
  };
  const entries = new Map<string, string>();
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    const types = typeof target === "string" ? undefined : target.import?.types;
    const source =
      types === undefined ? undefined : /^\.\/dist\/esm\/(.+)\.d\.ts$/.exec(types)?.[1];
    if (source === undefined) continue;
    entries.set(
      subpath === "." ? pkg.name : `${pkg.name}/${subpath.slice(2)}`,
      join(root, "src", `${source}.ts`),
    );
  }
  return entries;
}

/** What is there to supply an example's undeclared names from. */
interface Supplied {
  /** Import specifier ("timebound/http") to the source file of that entry point. */
  readonly entries: ReadonlyMap<string, string>;
  /** The names each entry point and source file exports. */
  readonly exportsOf: ReadonlyMap<string, ReadonlySet<string>>;
  /** Whether a name is a global (lib, @types/node): a value or a type anyone can use. */
  readonly isGlobal: (name: string) => boolean;
  readonly declarations: Readonly<Record<string, string>>;
  readonly types: Readonly<Record<string, string>>;
  /** Absolute path prefixes and the declarations that apply under them. */
  readonly scoped: readonly (readonly [string, Readonly<Record<string, string>>])[];
}

/**
 * The names each of `files` exports (values and types), a test for global names, and the
 * program that found them.
 */
function exportedNames(
  files: readonly string[],
  options: ts.CompilerOptions,
): Pick<Supplied, "exportsOf" | "isGlobal"> & { program: ts.Program } {
  const program = ts.createProgram(files, options);
  const checker = program.getTypeChecker();
  const exportsOf = new Map<string, Set<string>>();
  for (const file of files) {
    const sourceFile = program.getSourceFile(file);
    const symbol = sourceFile === undefined ? undefined : checker.getSymbolAtLocation(sourceFile);
    const exported = symbol === undefined ? [] : checker.getExportsOfModule(symbol);
    exportsOf.set(file, new Set(exported.map((s) => s.name)));
  }
  const meaning = ts.SymbolFlags.Value | ts.SymbolFlags.Type | ts.SymbolFlags.Namespace;
  const isGlobal = (name: string): boolean =>
    checker.resolveName(name, undefined, meaning, false) !== undefined;
  return { exportsOf, isGlobal, program };
}

/** The import specifier of the entry point whose folder holds `file` (the innermost one). */
function entryOf(file: string, entries: ReadonlyMap<string, string>): string | undefined {
  let best: [string, number] | undefined;
  for (const [specifier, entryFile] of entries) {
    const dir = dirname(entryFile) + sep;
    if (file.startsWith(dir) && (best === undefined || dir.length > best[1])) {
      best = [specifier, dir.length];
    }
  }
  return best?.[0];
}

/**
 * The lines put before an example: imports of the names it uses undeclared (from its own entry
 * point first; globals are left alone; then another entry point, or its own file), `declare
 * const` for the caller's declarations and `type` for the caller's types.
 */
function preludeFor(example: Example, supplied: Supplied): string[] {
  const { entries, exportsOf, isGlobal, types } = supplied;
  const declarations = Object.assign(
    {},
    supplied.declarations,
    ...supplied.scoped.filter(([prefix]) => example.file.startsWith(prefix)).map(([, d]) => d),
  ) as Record<string, string>;
  const used = freeNames(example.code);
  const own = entryOf(example.file, entries);
  const prelude: string[] = [];
  for (const name of used) {
    const entry =
      own !== undefined && exportsOf.get(entries.get(own)!)?.has(name)
        ? own
        : isGlobal(name)
          ? undefined
          : [...entries].find(([, file]) => exportsOf.get(file)?.has(name))?.[0];
    if (entry !== undefined) {
      prelude.push(`import { ${name} } from "${entry}";`);
    } else if (isGlobal(name)) {
      continue;
    } else if (exportsOf.get(example.file)?.has(name)) {
      const ownFile = example.file.replace(/\.ts$/, ".js");
      prelude.push(`import { ${name} } from ${JSON.stringify(ownFile)};`);
    } else if (Object.hasOwn(declarations, name)) {
      prelude.push(`declare const ${name}: ${declarations[name]};`);
    } else if (Object.hasOwn(types, name)) {
      prelude.push(`type ${name} = ${types[name]};`);
    }
  }
  return prelude;
}

/**
 * The names `code` uses where no declaration of its own is in scope (imports, variables,
 * functions, parameters...): `ctx` is free in `g.go((ctx) => f(ctx)); await sleep(ctx, 1)`.
 */
function freeNames(code: string): Set<string> {
  const sourceFile = ts.createSourceFile("example.mts", code, ts.ScriptTarget.Latest, true);
  const uses: ts.Identifier[] = [];
  const scopes = new Map<string, ts.Node[]>();
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node)) {
      const parent = node.parent;
      const isDeclarationName =
        (ts.isImportSpecifier(parent) ||
          ts.isImportClause(parent) ||
          ts.isNamespaceImport(parent) ||
          ts.isVariableDeclaration(parent) ||
          ts.isFunctionDeclaration(parent) ||
          ts.isFunctionExpression(parent) ||
          ts.isClassDeclaration(parent) ||
          ts.isInterfaceDeclaration(parent) ||
          ts.isTypeAliasDeclaration(parent) ||
          ts.isTypeParameterDeclaration(parent) ||
          ts.isParameter(parent) ||
          ts.isBindingElement(parent)) &&
        (parent as ts.NamedDeclaration).name === node;
      const isMember =
        (ts.isPropertyAccessExpression(parent) && parent.name === node) ||
        (ts.isPropertyAssignment(parent) && parent.name === node) ||
        (ts.isPropertySignature(parent) && parent.name === node) ||
        (ts.isMethodDeclaration(parent) && parent.name === node) ||
        (ts.isMethodSignature(parent) && parent.name === node) ||
        (ts.isBindingElement(parent) && parent.propertyName === node) ||
        (ts.isQualifiedName(parent) && parent.right === node);
      if (isDeclarationName) {
        const list = scopes.get(node.text) ?? [];
        list.push(scopeOf(parent));
        scopes.set(node.text, list);
      } else if (!isMember) {
        uses.push(node);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  const free = new Set<string>();
  for (const use of uses) {
    const declaredIn = scopes.get(use.text) ?? [];
    if (!declaredIn.some((scope) => isAncestor(scope, use))) free.add(use.text);
  }
  return free;
}

/** The node a declaration's name is visible in: its function, block, loop, or the file. */
function scopeOf(declaration: ts.Node): ts.Node {
  if (ts.isParameter(declaration) || ts.isTypeParameterDeclaration(declaration)) {
    return declaration.parent;
  }
  // A function expression's own name is visible inside it only.
  if (ts.isFunctionExpression(declaration)) return declaration;
  let node = declaration.parent;
  while (
    !ts.isSourceFile(node) &&
    !ts.isBlock(node) &&
    !ts.isModuleBlock(node) &&
    !ts.isCaseBlock(node) &&
    !ts.isFunctionLike(node) &&
    !ts.isForStatement(node) &&
    !ts.isForInStatement(node) &&
    !ts.isForOfStatement(node) &&
    !ts.isCatchClause(node)
  ) {
    node = node.parent;
  }
  return node;
}

function isAncestor(ancestor: ts.Node, node: ts.Node): boolean {
  for (let n: ts.Node | undefined = node; n !== undefined; n = n.parent) {
    if (n === ancestor) return true;
  }
  return false;
}
