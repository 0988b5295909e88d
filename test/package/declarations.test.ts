// The published declarations hold only the public API: the build strips everything tagged
// @internal (stripInternal), so no underscore member or export and no @internal tag may be left
// in a .d.ts of the tarball. A hot field of the core that lost its tag would show up here.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import ts from "typescript";
import { pack } from "./packed.js";

/** Every named member or export of `file` whose name starts with an underscore, as `line: name`. */
export function underscoreNames(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const report = (name: ts.Node): void => {
    const { line } = source.getLineAndCharacterOfPosition(name.getStart(source));
    found.push(`${file}:${line + 1}: ${name.getText(source)}`);
  };
  const visit = (node: ts.Node): void => {
    if (
      (ts.isPropertyDeclaration(node) ||
        ts.isPropertySignature(node) ||
        ts.isMethodDeclaration(node) ||
        ts.isMethodSignature(node) ||
        ts.isGetAccessorDeclaration(node) ||
        ts.isSetAccessorDeclaration(node) ||
        ts.isClassDeclaration(node) ||
        ts.isInterfaceDeclaration(node) ||
        ts.isTypeAliasDeclaration(node) ||
        ts.isFunctionDeclaration(node) ||
        ts.isEnumDeclaration(node) ||
        ts.isEnumMember(node) ||
        ts.isModuleDeclaration(node) ||
        ts.isVariableDeclaration(node) ||
        ts.isExportSpecifier(node)) &&
      node.name !== undefined &&
      /^_/.test(node.name.getText(source))
    ) {
      report(node.name);
    }
    // A parameter property (`constructor(readonly _x: T)`) is a member too.
    if (
      ts.isParameter(node) &&
      ts.isConstructorDeclaration(node.parent) &&
      node.modifiers !== undefined &&
      node.modifiers.length > 0 &&
      /^_/.test(node.name.getText(source))
    ) {
      report(node.name);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function declarationFiles(): { path: string; text: string }[] {
  const { dir, files } = pack();
  return files
    .filter((f) => f.path.endsWith(".d.ts"))
    .map((f) => ({ path: f.path, text: readFileSync(join(dir, f.path), "utf8") }));
}

describe("the published declarations", () => {
  it("are there, for both builds", () => {
    const paths = new Set(declarationFiles().map((f) => f.path));
    for (const path of [
      "dist/esm/index.d.ts",
      "dist/cjs/index.d.ts",
      "dist/esm/core/context.d.ts",
    ]) {
      assert.ok(paths.has(path), `${path} is not in the tarball`);
    }
  });

  it("name no member or export starting with an underscore", () => {
    const found = declarationFiles().flatMap((f) => underscoreNames(f.path, f.text));
    assert.deepEqual(found, [], `underscore names in the published .d.ts:\n${found.join("\n")}`);
  });

  it("hold no @internal declaration (stripInternal removed them all)", () => {
    const found = declarationFiles()
      .filter((f) => f.text.includes("@internal"))
      .map((f) => f.path);
    assert.deepEqual(found, [], `@internal left in:\n${found.join("\n")}`);
  });

  it("are what the internal core looks like to a user: its door and hot fields are gone", () => {
    const context = declarationFiles().find((f) => f.path === "dist/esm/core/context.d.ts");
    assert.ok(context !== undefined, "dist/esm/core/context.d.ts is not in the tarball");
    assert.doesNotMatch(context.text, /\bCancelContext\b/, "context.d.ts names CancelContext");
    const internal = declarationFiles().find((f) => f.path === "dist/esm/core/internal.d.ts");
    assert.ok(internal !== undefined, "dist/esm/core/internal.d.ts is not in the tarball");
    assert.doesNotMatch(
      internal.text,
      /\bWatcher\b/,
      "internal.d.ts still exports the core's door",
    );
  });
});

describe("underscoreNames", () => {
  it("finds members, parameter properties and exports, not inferred type parameters", () => {
    const text = [
      "export declare class A { _x: number; constructor(readonly _y: number); _m(): void; }",
      "export interface B { _p: string }",
      "declare const _c: number;",
      "export { _c };",
      "export type F<M> = M extends (...a: infer _R) => unknown ? 1 : 0;",
    ].join("\n");
    const names = underscoreNames("a.d.ts", text).map((line) => line.split(": ")[1]);
    assert.deepEqual(names, ["_x", "_y", "_m", "_p", "_c", "_c"]);
  });
});
