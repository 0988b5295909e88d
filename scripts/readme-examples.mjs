// Copies each example file into README.md, into the ```ts block that follows its marker line
// `<!-- examples/<name>.ts -->`, so the README shows code that runs (test/examples.test.ts runs
// the files and checks the README matches them). Usage: node scripts/readme-examples.mjs [--check]
import { readFileSync, writeFileSync } from "node:fs";

const readmePath = new URL("../README.md", import.meta.url);
const readme = readFileSync(readmePath, "utf8");
// Prettier puts a blank line between the marker and the block; keep whatever is there.
const marker = /<!-- (examples\/[\w-]+\.ts) -->(\n+)```ts\n[\s\S]*?```/g;
const updated = readme.replace(marker, (_block, file, gap) => {
  const code = readFileSync(new URL(`../${file}`, import.meta.url), "utf8");
  return `<!-- ${file} -->${gap}\`\`\`ts\n${code}\`\`\``;
});
if (process.argv.includes("--check")) {
  if (updated !== readme) {
    console.error("README.md is out of date with examples/: run node scripts/readme-examples.mjs");
    process.exit(1);
  }
} else if (updated !== readme) {
  writeFileSync(readmePath, updated);
  console.log("README.md: examples updated");
}
