// A hand-written SVG line chart: enough for a memory curve, no dependency, and the output is a
// small self-contained file that GitHub renders inline.

export interface Series {
  readonly label: string;
  readonly color: string;
  readonly dashed?: boolean;
  /** y for each x of the chart, same length as `xs`. */
  readonly ys: readonly number[];
}

export interface LineChart {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly xs: readonly number[];
  readonly series: readonly Series[];
}

const W = 720;
const H = 400;
const M = { left: 70, right: 20, top: 40, bottom: 50 };

export function lineChartSvg(chart: LineChart): string {
  const xMax = niceCeil(Math.max(...chart.xs));
  const yMax = niceCeil(Math.max(1, ...chart.series.flatMap((s) => s.ys)));
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const px = (x: number): number => M.left + (x / xMax) * plotW;
  // Negative noise (heap a little below the baseline) is drawn on the axis.
  const py = (y: number): number => M.top + plotH - (Math.max(0, y) / yMax) * plotH;
  const f = (v: number): string => v.toFixed(1);

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(chart.title)}</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const yv = (yMax * i) / 5;
    const xv = (xMax * i) / 5;
    out.push(
      `<line x1="${M.left}" y1="${f(py(yv))}" x2="${W - M.right}" y2="${f(py(yv))}" stroke="#e5e5e5"/>`,
      `<text x="${M.left - 8}" y="${f(py(yv) + 4)}" text-anchor="end">${label(yv)}</text>`,
      `<line x1="${f(px(xv))}" y1="${M.top + plotH}" x2="${f(px(xv))}" y2="${M.top + plotH + 5}" stroke="black"/>`,
      `<text x="${f(px(xv))}" y="${M.top + plotH + 20}" text-anchor="middle">${label(xv)}</text>`,
    );
  }
  out.push(
    `<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${M.top + plotH}" stroke="black"/>`,
    `<line x1="${M.left}" y1="${M.top + plotH}" x2="${W - M.right}" y2="${M.top + plotH}" stroke="black"/>`,
    `<text x="${M.left + plotW / 2}" y="${H - 10}" text-anchor="middle">${esc(chart.xLabel)}</text>`,
    `<text transform="translate(18 ${M.top + plotH / 2}) rotate(-90)" text-anchor="middle">${esc(chart.yLabel)}</text>`,
  );
  chart.series.forEach((s, i) => {
    const points = chart.xs.map((x, j) => `${f(px(x))},${f(py(s.ys[j] ?? 0))}`).join(" ");
    const dash = s.dashed === true ? ` stroke-dasharray="6 4"` : "";
    out.push(
      `<polyline fill="none" stroke="${s.color}" stroke-width="2"${dash} points="${points}"/>`,
    );
    const ly = M.top + 14 + i * 18;
    out.push(
      `<line x1="${M.left + 14}" y1="${ly - 4}" x2="${M.left + 44}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${dash}/>`,
      `<text x="${M.left + 52}" y="${ly}">${esc(s.label)}</text>`,
    );
  });
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}

/** The smallest round number >= v whose fifths are round too, so axis ticks read well. */
function niceCeil(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function label(v: number): string {
  if (v >= 1_000_000) return `${+(v / 1_000_000).toFixed(2)}M`;
  if (v >= 1000) return `${+(v / 1000).toFixed(1)}k`;
  return `${+v.toFixed(1)}`;
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
