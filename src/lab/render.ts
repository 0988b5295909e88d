import { formatCount, formatMs } from "./format.js";
import type { LabReport, ScenarioReport } from "./run.js";
import { type Column, GAP, type TableRow, renderTable, wrapCell } from "./table.js";

/** Widths that keep a report within about 110 columns. */
const WIDTH = { text: 100, measure: 46, value: 40 } as const;

/** @internal Where the figures each scenario compares with come from, said once at the top. */
export const GO_ARTICLE =
  '"The Go article" below is the article this lab reproduces: a Chinese article on why ' +
  "Go's context.WithTimeout fails in practice (lost cancel() calls, work that ignores Done(), " +
  "nested deadlines, retry storms), with figures from Go services; its section numbers are " +
  "given with each figure.";

/** @internal The lab report as people read it: one titled table per scenario, then its findings. */
export function renderReport(report: LabReport): string {
  const o = report.options;
  const head =
    `timebound lab: wrong vs right, measured here (node ${report.node}, ${report.platform}; ` +
    `requests ${formatCount(o.requests)}, scale x${o.scale}` +
    (o.quick === true ? ", the quick run: the longest scenarios shortened" : "") +
    (report.gc ? ")" : "; no GC available, heap figures are rough)");
  const parts = [head, paragraph("", GO_ARTICLE), ""];
  report.scenarios.forEach((s, i) => {
    parts.push(renderScenario(s, i + 1, report.scenarios.length));
  });
  parts.push(`done in ${formatMs(report.durationMs)}`);
  return parts.join("\n") + "\n";
}

function renderScenario(s: ScenarioReport, index: number, total: number): string {
  const columns: Column[] = [
    { header: "measure", maxWidth: WIDTH.measure },
    { header: `wrong: ${s.wrong}`, maxWidth: WIDTH.value },
    { header: `right: ${s.right}`, maxWidth: WIDTH.value },
  ];
  const rows: TableRow[] = [];
  let lastGroup: string | undefined;
  for (const r of s.rows) {
    if (r.group !== undefined && r.group !== lastGroup) {
      if (lastGroup !== undefined) rows.push(GAP);
      rows.push({ span: r.group }); // the case, once, above its rows
    }
    lastGroup = r.group;
    rows.push([r.measure, r.wrong.text, r.right.text]);
  }
  const lines = [
    `[${index}/${total}] ${s.id}: ${s.title}  (${formatMs(s.durationMs)})`,
    paragraph("  the Go article: ", s.goArticle),
    paragraph("  setup: ", s.setup),
    "",
    renderTable(columns, rows, { indent: "  " }),
    ...s.findings.map((f) => paragraph("  * ", f)),
    "",
  ];
  return lines.join("\n");
}

/** `text` wrapped to the report's width, after `lead`, with later lines indented to match. */
function paragraph(lead: string, text: string): string {
  const hang = " ".repeat(lead.length);
  return wrapCell(text, WIDTH.text - lead.length)
    .map((line, i) => (i === 0 ? lead : hang) + line)
    .join("\n");
}
