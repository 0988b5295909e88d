#!/usr/bin/env node
// Launcher for the timebound CLI. The CLI itself is TypeScript in src/cli, built to dist/esm;
// this file only finds it, hands it the package version and sets the exit code.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath, URL } from "node:url";

const entry = new URL("../dist/esm/cli/main.js", import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error(
    `timebound: the CLI is not built (${fileURLToPath(entry)} is missing); ` +
      "run npm run build first",
  );
  process.exit(1);
}
const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
const { main, processIO } = await import(entry.href);
// exitCode, not exit(): output still being flushed to a pipe is not cut off.
process.exitCode = await main(process.argv.slice(2), processIO(version));
