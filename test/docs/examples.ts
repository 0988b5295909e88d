// The TypeScript code blocks of the TSDoc `@example`s in source files, extracted and typechecked
// as a user would compile them: each example is a module of its own under `module: nodenext`,
// importing the library by its package name ("timebound", "timebound/redis"...), which resolves
// to the sources. Names an example uses without declaring are supplied: a name exported by one of
// the package's entry points, or by the example's own file, is imported from there; the caller
// declares the rest (`client`, `ctx`...) with a type.
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
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
  const sources = [...new Set(examples.map((e) => e.file))];
  const exportsOf = exportedNames([...entries.values(), ...sources], compilerOptions);

  const virtual = new Map<string, { example: Example; prelude: number; text: string }>();
  examples.forEach((example, i) => {
    const prelude = preludeFor(example, entries, exportsOf, options.declarations ?? {});
    const name = join(root, "test/docs/.examples", `${relative(root, example.file)}.${i}.mts`);
    const text = `${prelude.join("\n")}\n${example.code}\nexport {};\n`;
    virtual.set(name, { example, prelude: prelude.length + 1, text });
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
  const program = ts.createProgram([...virtual.keys()], compilerOptions, host);
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

/** The names each of `files` exports (values and types). */
function exportedNames(
  files: readonly string[],
  options: ts.CompilerOptions,
): Map<string, Set<string>> {
  const program = ts.createProgram(files, options);
  const checker = program.getTypeChecker();
  const names = new Map<string, Set<string>>();
  for (const file of files) {
    const sourceFile = program.getSourceFile(file);
    const symbol = sourceFile === undefined ? undefined : checker.getSymbolAtLocation(sourceFile);
    const exported = symbol === undefined ? [] : checker.getExportsOfModule(symbol);
    names.set(file, new Set(exported.map((s) => s.name)));
  }
  return names;
}

/**
 * The lines put before an example: imports of the names it uses undeclared that an entry point
 * (or, failing that, its own file) exports, and `declare const` for the caller's declarations.
 */
function preludeFor(
  example: Example,
  entries: ReadonlyMap<string, string>,
  exportsOf: ReadonlyMap<string, ReadonlySet<string>>,
  declarations: Readonly<Record<string, string>>,
): string[] {
  const { used, declared } = identifiers(example.code);
  const prelude: string[] = [];
  for (const name of used) {
    if (declared.has(name)) continue;
    const entry = [...entries].find(([, file]) => exportsOf.get(file)?.has(name));
    if (entry !== undefined) {
      prelude.push(`import { ${name} } from "${entry[0]}";`);
    } else if (exportsOf.get(example.file)?.has(name)) {
      const own = example.file.replace(/\.ts$/, ".js");
      prelude.push(`import { ${name} } from ${JSON.stringify(own)};`);
    } else if (Object.hasOwn(declarations, name)) {
      prelude.push(`declare const ${name}: ${declarations[name]};`);
    }
  }
  return prelude;
}

/** Identifiers `code` refers to, and those it declares (imports, variables, functions...). */
function identifiers(code: string): { used: Set<string>; declared: Set<string> } {
  const sourceFile = ts.createSourceFile("example.mts", code, ts.ScriptTarget.Latest, true);
  const used = new Set<string>();
  const declared = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node)) {
      const parent = node.parent;
      const isDeclarationName =
        (ts.isImportSpecifier(parent) ||
          ts.isImportClause(parent) ||
          ts.isNamespaceImport(parent) ||
          ts.isVariableDeclaration(parent) ||
          ts.isFunctionDeclaration(parent) ||
          ts.isClassDeclaration(parent) ||
          ts.isInterfaceDeclaration(parent) ||
          ts.isTypeAliasDeclaration(parent) ||
          ts.isParameter(parent) ||
          ts.isBindingElement(parent)) &&
        (parent as ts.NamedDeclaration).name === node;
      const isMember =
        (ts.isPropertyAccessExpression(parent) && parent.name === node) ||
        (ts.isPropertyAssignment(parent) && parent.name === node) ||
        (ts.isPropertySignature(parent) && parent.name === node) ||
        (ts.isQualifiedName(parent) && parent.right === node);
      if (isDeclarationName) declared.add(node.text);
      else if (!isMember) used.add(node.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  return { used, declared };
}
