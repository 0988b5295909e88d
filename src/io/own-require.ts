import { moduleFile } from "../core/internal.js";
import { createRequire } from "node:module";

/**
 * A `require` that resolves from timebound's own folder, in the ESM build as in the CommonJS
 * one; undefined if the module's file cannot be read, and callers then fall back to `import()`.
 */
export function ownRequire(): NodeJS.Require | undefined {
  const file = moduleFile();
  return file === undefined ? undefined : createRequire(file);
}
