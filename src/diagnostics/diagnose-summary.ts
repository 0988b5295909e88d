import { existsSync } from "node:fs";
import { join } from "node:path";
import { DUMP_FILES } from "./dump.js";
import { plural } from "./format.js";
import type { Finding } from "./model.js";

/**
 * What `runDiagnose` prints when the program has ended: the first twenty findings, then the
 * files of each report folder. Public through the diagnostics entry's deprecated alias, so its
 * declaration must survive stripInternal.
 */
export function diagnoseSummary(dirs: readonly string[], findings: readonly Finding[]): string {
  if (dirs.length === 0) {
    return "timebound diagnose: no report was written (did the program start node, and exit?)\n";
  }
  let out = `timebound diagnose: ${plural(findings.length, "finding")}\n`;
  for (const f of findings.slice(0, 20)) out += `  [${f.kind}] ${f.message}\n`;
  if (findings.length > 20) out += `  … and ${plural(findings.length - 20, "more finding")}\n`;
  for (const dir of dirs) {
    out += `\nin ${dir}:\n`;
    for (const [file, what] of Object.entries(DUMP_FILES)) {
      if (existsSync(join(dir, file))) out += `  ${file.padEnd(16)} ${what}\n`;
    }
  }
  return out;
}
