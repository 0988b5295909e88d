/**
 * Growth curves: the tracker's {@link GrowthSample}s as CSV for spreadsheets and as a
 * self-contained SVG chart (memory in MB on the left axis, counts on the right), the Node
 * counterpart of plotting `runtime.ReadMemStats` and the goroutine count over time.
 */
import { describeValue, invalidType, outOfRange, readOptions } from "../core/internal.js";
import type { GrowthSample, Snapshot } from "./model.js";
import type { SeriesVerdict } from "./verdict.js";

/** @internal One curve drawn from the samples. */
export interface GrowthSeries {
  /** Stable id: `heapUsed`, `rss`, `liveContexts`, `liveOperations`, `handles:<type>`. */
  readonly id: string;
  /** For people: "heap used", "handles: TCPSocketWrap". */
  readonly label: string;
  readonly unit: "bytes" | "count";
  /** One value a sample, in `unit`. */
  readonly values: readonly number[];
}

/** @internal The samples' times (ms, monotonic) and every series, handle types by largest peak first. */
export interface GrowthSeriesSet {
  readonly times: readonly number[];
  readonly series: readonly GrowthSeries[];
}

const MB = 1024 * 1024;

/**
 * @internal Splits samples into series: heap used, RSS, live contexts, live operations, then one
 * series per handle type (0 where a sample lacks it), ordered by peak. Throws a RangeError naming
 * the sample and field when a number is not finite or times go backwards.
 *
 * @example
 * ```ts
 * const { times, series } = growthSeries(snapshot().samples);
 * ```
 */
export function growthSeries(
  samples: readonly GrowthSample[],
  where = "growthSeries",
): GrowthSeriesSet {
  // Checked through an `unknown` copy: Array.isArray on the readonly parameter narrows it to any[].
  const given: unknown = samples;
  if (!Array.isArray(given)) {
    throw invalidType(
      `${where}: samples must be an array of GrowthSample, got ${describeValue(samples)}`,
    );
  }
  const handleTypes = new Map<string, number>();
  let previous = -Infinity;
  samples.forEach((s, i) => {
    for (const field of ["at", "heapUsed", "rss", "liveContexts", "liveOperations"] as const) {
      if (!Number.isFinite(s[field])) {
        throw outOfRange(
          `${where}: samples[${i}].${field} must be a finite number, got ${describeValue(s[field])}`,
        );
      }
    }
    if (s.at < previous) {
      throw outOfRange(
        `${where}: samples[${i}].at (${s.at}) is earlier than samples[${i - 1}].at (${previous})`,
      );
    }
    previous = s.at;
    for (const [type, n] of Object.entries(s.handles)) {
      if (!Number.isFinite(n)) {
        throw outOfRange(
          `${where}: samples[${i}].handles[${JSON.stringify(type)}] must be a finite number, got ${describeValue(n)}`,
        );
      }
      handleTypes.set(type, Math.max(handleTypes.get(type) ?? 0, n));
    }
  });
  const byPeak = [...handleTypes.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return {
    times: samples.map((s) => s.at),
    series: [
      { id: "heapUsed", label: "heap used", unit: "bytes", values: samples.map((s) => s.heapUsed) },
      { id: "rss", label: "rss", unit: "bytes", values: samples.map((s) => s.rss) },
      {
        id: "liveContexts",
        label: "live contexts",
        unit: "count",
        values: samples.map((s) => s.liveContexts),
      },
      {
        id: "liveOperations",
        label: "live operations",
        unit: "count",
        values: samples.map((s) => s.liveOperations),
      },
      ...byPeak.map(([type]): GrowthSeries => ({
        id: `handles:${type}`,
        label: `handles: ${type}`,
        unit: "count",
        values: samples.map((s) => s.handles[type] ?? 0),
      })),
    ],
  };
}

/** @internal The event loop's series: delay (max, p99) in ms and utilization in %; NaN where a sample lacks it. */
export function loopSeries(samples: readonly GrowthSample[]): readonly GrowthLoopSeries[] {
  if (!samples.some((s) => s.loopUtilization !== undefined || s.loopDelayMaxMs !== undefined)) {
    return [];
  }
  const values = (read: (s: GrowthSample) => number | undefined): number[] =>
    samples.map((s) => {
      const v = read(s);
      return typeof v === "number" && Number.isFinite(v) ? v : Number.NaN;
    });
  return [
    {
      id: "loopDelayMax",
      label: "loop delay max",
      unit: "ms",
      values: values((s) => s.loopDelayMaxMs),
    },
    {
      id: "loopDelayP99",
      label: "loop delay p99",
      unit: "ms",
      values: values((s) => s.loopDelayP99Ms),
    },
    {
      id: "loopUtilization",
      label: "loop utilization",
      unit: "pct",
      values: values((s) =>
        s.loopUtilization === undefined ? undefined : Math.round(s.loopUtilization * 1000) / 10,
      ),
    },
  ];
}

/** @internal One event-loop curve: ms of delay, or % of the time busy. */
export interface GrowthLoopSeries {
  readonly id: "loopDelayMax" | "loopDelayP99" | "loopUtilization";
  readonly label: string;
  readonly unit: "ms" | "pct";
  readonly values: readonly number[];
}

/** A moment to mark on the curves: where a finding happened. */
export interface GrowthMarker {
  /** Monotonic time, as the samples' `at`. */
  readonly at: number;
  /** What happened there: a finding's kind ("late-deadline"). */
  readonly label: string;
}

/**
 * Where the snapshot's findings happened, as markers for {@link toGrowthCsv} and
 * {@link toGrowthSvg}: each at the moment its finding points at (the snapshot's time less the
 * finding's age: when the lost context was made, when the deadline fired late), oldest first.
 *
 * @example
 * ```ts
 * const s = tracking.snapshot();
 * await writeFile("growth.svg", toGrowthSvg(s.samples, { markers: findingMarkers(s) }));
 * ```
 */
export function findingMarkers(snapshot: Snapshot): GrowthMarker[] {
  return snapshot.findings
    .map((f) => ({
      at: snapshot.takenAt - (Number.isFinite(f.ageMs) ? f.ageMs : 0),
      label: f.kind,
    }))
    .sort((a, b) => a.at - b.at);
}

/** Options of {@link toGrowthCsv}. */
export interface GrowthCsvOptions {
  /**
   * Findings to mark ({@link findingMarkers}): a last `findings` column names, on each sample's
   * row, the kinds that happened since the previous sample. Default none (no column).
   */
  readonly markers?: readonly GrowthMarker[];
}

/** For each marker, the index of the first sample at or after it (the last sample for later ones). */
function markerRows(times: readonly number[], markers: readonly GrowthMarker[]): string[] {
  const rows = times.map(() => new Set<string>());
  for (const m of markers) {
    if (times.length === 0 || !Number.isFinite(m.at)) continue;
    let i = times.findIndex((t) => t >= m.at);
    if (i < 0) i = times.length - 1;
    rows[i]?.add(m.label);
  }
  return rows.map((set) => [...set].join(";"));
}

function checkMarkers(markers: unknown, where: string): readonly GrowthMarker[] {
  if (markers === undefined) return [];
  if (
    !Array.isArray(markers) ||
    markers.some(
      (m) =>
        typeof m !== "object" ||
        m === null ||
        typeof (m as GrowthMarker).at !== "number" ||
        typeof (m as GrowthMarker).label !== "string",
    )
  ) {
    throw invalidType(
      `${where}: options.markers must be an array of { at: number, label: string }, got ${describeValue(markers)}`,
    );
  }
  return markers as GrowthMarker[];
}

/**
 * The samples as CSV (RFC 4180, "\n" line ends): `seconds` since the first sample, memory in MB
 * with three decimals, then counts, one `handles:<type>` column per handle type. Header only
 * when there are no samples.
 *
 * @example
 * ```ts
 * await writeFile("growth.csv", toGrowthCsv(snapshot().samples));
 * ```
 */
export function toGrowthCsv(
  samples: readonly GrowthSample[],
  options: GrowthCsvOptions = {},
): string {
  const o = readOptions(options, "toGrowthCsv", ["markers"]);
  const markers = checkMarkers(o.raw("markers"), "toGrowthCsv");
  const { times, series } = growthSeries(samples, "toGrowthCsv");
  const loop = loopSeries(samples);
  const marks = markers.length === 0 ? undefined : markerRows(times, markers);
  const header = [
    "seconds",
    ...series.map((s) => (s.unit === "bytes" ? `${s.id}_mb` : s.id)),
    ...loop.map((s) => `${s.id}_${s.unit}`),
    ...(marks === undefined ? [] : ["findings"]),
  ];
  const start = times[0] ?? 0;
  const rows = times.map((t, i) =>
    [
      round((t - start) / 1000, 3),
      ...series.map((s) => {
        const v = s.values[i] ?? 0;
        return s.unit === "bytes" ? round(v / MB, 3) : String(v);
      }),
      ...loop.map((s) => {
        const v = s.values[i] ?? Number.NaN;
        return Number.isNaN(v) ? "" : String(v);
      }),
      ...(marks === undefined ? [] : [csvField(marks[i] ?? "")]),
    ].join(","),
  );
  return `${[header.map(csvField).join(","), ...rows].join("\n")}\n`;
}

/** Options of {@link toGrowthSvg}. */
export interface GrowthSvgOptions {
  /** Chart title. Default "timebound growth curves". */
  readonly title?: string;
  /** Verdicts from `growthVerdict(samples)`, shown in the legend beside their series. */
  readonly verdicts?: readonly SeriesVerdict[];
  /**
   * Handle types drawn, by largest peak. Default 3; 0 to 20.
   */
  readonly handleTypes?: number;
  /**
   * At most this many points a line; longer series keep each bucket's lowest and highest value,
   * so GC sawtooth and spikes survive. Default 600; 10 to 100,000.
   */
  readonly maxPoints?: number;
  /**
   * Moments to mark with a vertical line across the charts, labelled: where findings happened
   * ({@link findingMarkers}). Default none.
   */
  readonly markers?: readonly GrowthMarker[];
}

const WIDTH = 960;
const PLOT = { left: 72, right: 72, top: 44, bottom: 56 } as const;
const PLOT_HEIGHT = 300;
const LEGEND_ROW = 18;
/** Okabe–Ito colours (distinct for colour-blind readers) with dashes as a second cue. */
const STYLES = [
  { color: "#0072B2", dash: "" },
  { color: "#56B4E9", dash: "6 3" },
  { color: "#D55E00", dash: "" },
  { color: "#E69F00", dash: "6 3" },
  { color: "#009E73", dash: "2 2" },
  { color: "#CC79A7", dash: "8 3 2 3" },
  { color: "#000000", dash: "2 4" },
] as const;

/**
 * The samples as a self-contained SVG line chart: one line per series (heap used and RSS in MB
 * against the left axis; live contexts, live operations and the top handle types against the
 * right axis), time in seconds since the first sample, a legend that names each series with its
 * axis and, when given, its leak verdict. Both axes start at zero, so growth is not exaggerated.
 *
 * @example
 * ```ts
 * const { samples } = snapshot();
 * const verdicts = growthVerdict(samples);
 * await writeFile("growth.svg", toGrowthSvg(samples, { verdicts }));
 * ```
 */
export function toGrowthSvg(
  samples: readonly GrowthSample[],
  options: GrowthSvgOptions = {},
): string {
  const o = readOptions(options, "toGrowthSvg", [
    "title",
    "verdicts",
    "handleTypes",
    "maxPoints",
    "markers",
  ]);
  const markers = checkMarkers(o.raw("markers"), "toGrowthSvg");
  const title = o.string("title", "timebound growth curves", true);
  const handleTypes = o.number("handleTypes", 3, { min: 0, max: 20, integer: true });
  const maxPoints = o.number("maxPoints", 600, { min: 10, max: 100_000, integer: true });
  const { times, series: all } = growthSeries(samples, "toGrowthSvg");
  const series = [...all.slice(0, 4), ...all.slice(4, 4 + handleTypes)];
  const verdicts = new Map((o.raw("verdicts") ?? []).map((v) => [v.series, v]));
  const loop = loopSeries(samples);
  const legendEnd =
    PLOT.top + PLOT_HEIGHT + PLOT.bottom + LEGEND_ROW * Math.ceil(series.length / 2);
  const loopTop = legendEnd + LOOP_GAP;
  const loopBottom = loopTop + LOOP_HEIGHT;
  const height =
    loop.length === 0
      ? legendEnd + 8
      : loopBottom + PLOT.bottom + LEGEND_ROW * Math.ceil(loop.length / 2) + 8;
  const plotWidth = WIDTH - PLOT.left - PLOT.right;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="${PLOT.left}" y="24" font-size="15" font-weight="600">${escapeXml(title)}</text>`,
  ];
  if (times.length === 0) {
    out.push(
      `<text x="${WIDTH / 2}" y="${PLOT.top + PLOT_HEIGHT / 2}" text-anchor="middle" fill="#555">no growth samples yet</text>`,
      "</svg>",
    );
    return `${out.join("\n")}\n`;
  }

  const start = times[0] ?? 0;
  const seconds = times.map((t) => (t - start) / 1000);
  const xAxis = niceAxis(0, seconds[seconds.length - 1] ?? 0);
  const memory = series.filter((s) => s.unit === "bytes");
  const counts = series.filter((s) => s.unit === "count");
  const leftAxis = niceAxis(0, peak(memory) / MB);
  const rightAxis = niceAxis(0, peak(counts));
  const xOf = (sec: number): number => PLOT.left + (sec / xAxis.max) * plotWidth;
  const yOf = (v: number, axis: Axis): number =>
    PLOT.top + PLOT_HEIGHT - (v / axis.max) * PLOT_HEIGHT;
  const bottom = PLOT.top + PLOT_HEIGHT;

  out.push(`<g stroke="#e3e3e3">`);
  for (const tick of leftAxis.ticks)
    out.push(
      `<line x1="${PLOT.left}" x2="${PLOT.left + plotWidth}" y1="${fmt(yOf(tick, leftAxis))}" y2="${fmt(yOf(tick, leftAxis))}"/>`,
    );
  out.push(`</g>`, `<g stroke="#333" fill="none">`);
  out.push(`<line x1="${PLOT.left}" x2="${PLOT.left}" y1="${PLOT.top}" y2="${bottom}"/>`);
  out.push(
    `<line x1="${PLOT.left + plotWidth}" x2="${PLOT.left + plotWidth}" y1="${PLOT.top}" y2="${bottom}"/>`,
  );
  out.push(
    `<line x1="${PLOT.left}" x2="${PLOT.left + plotWidth}" y1="${bottom}" y2="${bottom}"/>`,
    `</g>`,
  );
  out.push(`<g fill="#333">`);
  for (const tick of xAxis.ticks) {
    out.push(
      `<text x="${fmt(xOf(tick))}" y="${bottom + 16}" text-anchor="middle">${label(tick)}</text>`,
    );
  }
  for (const tick of leftAxis.ticks) {
    out.push(
      `<text x="${PLOT.left - 6}" y="${fmt(yOf(tick, leftAxis) + 4)}" text-anchor="end">${label(tick)}</text>`,
    );
  }
  for (const tick of rightAxis.ticks) {
    out.push(
      `<text x="${PLOT.left + plotWidth + 6}" y="${fmt(yOf(tick, rightAxis) + 4)}">${label(tick)}</text>`,
    );
  }
  out.push(
    `<text x="${PLOT.left + plotWidth / 2}" y="${bottom + 36}" text-anchor="middle">seconds since the first sample</text>`,
    `<text transform="translate(18 ${PLOT.top + PLOT_HEIGHT / 2}) rotate(-90)" text-anchor="middle">memory (MB)</text>`,
    `<text transform="translate(${WIDTH - 14} ${PLOT.top + PLOT_HEIGHT / 2}) rotate(90)" text-anchor="middle">count</text>`,
    `</g>`,
  );

  series.forEach((s, i) => {
    const style = STYLES[i % STYLES.length] ?? STYLES[0];
    const axis = s.unit === "bytes" ? leftAxis : rightAxis;
    const scale = s.unit === "bytes" ? MB : 1;
    const points = decimate(seconds, s.values, maxPoints)
      .map(([sec, v]) => `${fmt(xOf(sec))},${fmt(yOf(v / scale, axis))}`)
      .join(" ");
    const dash = style.dash === "" ? "" : ` stroke-dasharray="${style.dash}"`;
    out.push(
      `<polyline data-series="${escapeXml(s.id)}" fill="none" stroke="${style.color}" stroke-width="1.8"${dash} points="${points}"/>`,
    );
    if (times.length === 1) {
      const [x, y] = points.split(",");
      out.push(`<circle cx="${x}" cy="${y}" r="3" fill="${style.color}"/>`);
    }
    const row = Math.floor(i / 2);
    const lx = PLOT.left + (i % 2) * (plotWidth / 2);
    const ly = bottom + PLOT.bottom + row * LEGEND_ROW;
    const verdict = verdicts.get(s.id);
    const note = verdict === undefined ? "" : ` — ${verdictNote(verdict)}`;
    const axisName = s.unit === "bytes" ? "MB, left" : "right";
    out.push(
      `<line x1="${lx}" x2="${lx + 24}" y1="${ly - 4}" y2="${ly - 4}" stroke="${style.color}" stroke-width="2.5"${dash}/>`,
      `<text x="${lx + 30}" y="${ly}"${verdict?.verdict === "leak" ? ' fill="#b00020" font-weight="600"' : ""}>${escapeXml(`${s.label} (${axisName})${note}`)}</text>`,
    );
  });
  const bands: [number, number][] = [[PLOT.top, bottom]];
  if (loop.length > 0) {
    out.push(...loopPanel(loop, seconds, xAxis.ticks, xOf, loopTop, maxPoints));
    bands.push([loopTop, loopBottom]);
  }
  out.push(...markerLines(markers, start, xAxis.max, xOf, bands));
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}

const LOOP_GAP = 44;
const LOOP_HEIGHT = 140;
const LOOP_STYLES = [
  { color: "#D55E00", dash: "" },
  { color: "#E69F00", dash: "6 3" },
  { color: "#009E73", dash: "2 2" },
] as const;

/**
 * The event loop's panel under the growth chart: delay (max and p99, ms, left axis) and
 * utilization (%, right axis, 0 to 100) on the same time axis. Samples without a value (the
 * first) leave a gap.
 */
function loopPanel(
  loop: readonly GrowthLoopSeries[],
  seconds: readonly number[],
  xTicks: readonly number[],
  xOf: (sec: number) => number,
  top: number,
  maxPoints: number,
): string[] {
  const plotWidth = WIDTH - PLOT.left - PLOT.right;
  const bottom = top + LOOP_HEIGHT;
  let worst = 0;
  for (const s of loop) if (s.unit === "ms") for (const v of s.values) if (v > worst) worst = v;
  const msAxis = niceAxis(0, worst);
  const pctAxis: Axis = { max: 100, ticks: [0, 25, 50, 75, 100] };
  const yOf = (v: number, axis: Axis): number => bottom - (v / axis.max) * LOOP_HEIGHT;
  const out: string[] = [
    `<text x="${PLOT.left}" y="${top - 10}" font-size="13" font-weight="600">event loop</text>`,
    `<g stroke="#e3e3e3">`,
    ...msAxis.ticks.map(
      (t) =>
        `<line x1="${PLOT.left}" x2="${PLOT.left + plotWidth}" y1="${fmt(yOf(t, msAxis))}" y2="${fmt(yOf(t, msAxis))}"/>`,
    ),
    `</g>`,
    `<g stroke="#333" fill="none">`,
    `<line x1="${PLOT.left}" x2="${PLOT.left}" y1="${top}" y2="${bottom}"/>`,
    `<line x1="${PLOT.left + plotWidth}" x2="${PLOT.left + plotWidth}" y1="${top}" y2="${bottom}"/>`,
    `<line x1="${PLOT.left}" x2="${PLOT.left + plotWidth}" y1="${bottom}" y2="${bottom}"/>`,
    `</g>`,
    `<g fill="#333">`,
    ...xTicks.map(
      (t) => `<text x="${fmt(xOf(t))}" y="${bottom + 16}" text-anchor="middle">${label(t)}</text>`,
    ),
    ...msAxis.ticks.map(
      (t) =>
        `<text x="${PLOT.left - 6}" y="${fmt(yOf(t, msAxis) + 4)}" text-anchor="end">${label(t)}</text>`,
    ),
    ...pctAxis.ticks.map(
      (t) =>
        `<text x="${PLOT.left + plotWidth + 6}" y="${fmt(yOf(t, pctAxis) + 4)}">${label(t)}</text>`,
    ),
    `<text transform="translate(18 ${top + LOOP_HEIGHT / 2}) rotate(-90)" text-anchor="middle">delay (ms)</text>`,
    `<text transform="translate(${WIDTH - 14} ${top + LOOP_HEIGHT / 2}) rotate(90)" text-anchor="middle">busy (%)</text>`,
    `</g>`,
  ];
  loop.forEach((s, i) => {
    const style = LOOP_STYLES[i % LOOP_STYLES.length] ?? LOOP_STYLES[0];
    const axis = s.unit === "ms" ? msAxis : pctAxis;
    const dash = style.dash === "" ? "" : ` stroke-dasharray="${style.dash}"`;
    // A missing value splits the line: one polyline per run of values.
    const runs: [number, number][][] = [[]];
    seconds.forEach((sec, k) => {
      const v = s.values[k] ?? Number.NaN;
      if (Number.isNaN(v)) runs.push([]);
      else runs[runs.length - 1]?.push([sec, v]);
    });
    for (const run of runs) {
      if (run.length === 0) continue;
      const points = decimate(
        run.map(([sec]) => sec),
        run.map(([, v]) => v),
        maxPoints,
      )
        .map(([sec, v]) => `${fmt(xOf(sec))},${fmt(yOf(v, axis))}`)
        .join(" ");
      out.push(
        `<polyline data-series="${s.id}" fill="none" stroke="${style.color}" stroke-width="1.8"${dash} points="${points}"/>`,
      );
      if (run.length === 1) {
        const [x, y] = points.split(",");
        out.push(`<circle cx="${x}" cy="${y}" r="3" fill="${style.color}"/>`);
      }
    }
    const lx = PLOT.left + (i % 2) * (plotWidth / 2);
    const ly = bottom + PLOT.bottom + Math.floor(i / 2) * LEGEND_ROW;
    const axisName = s.unit === "ms" ? "ms, left" : "%, right";
    out.push(
      `<line x1="${lx}" x2="${lx + 24}" y1="${ly - 4}" y2="${ly - 4}" stroke="${style.color}" stroke-width="2.5"${dash}/>`,
      `<text x="${lx + 30}" y="${ly}">${escapeXml(`${s.label} (${axisName})`)}</text>`,
    );
  });
  return out;
}

/** Markers closer than this many pixels share one line (and list their labels together). */
const MARKER_MERGE_PX = 4;
/** At most this many labels are written beside one marker line; the rest are counted. */
const MARKER_LABELS = 3;

/**
 * One labelled vertical line per marker (markers a few pixels apart share one), across each band
 * (the growth chart, the loop panel). The label reads down the line; the line's `<title>` lists
 * every marker it stands for.
 */
function markerLines(
  markers: readonly GrowthMarker[],
  start: number,
  xMax: number,
  xOf: (sec: number) => number,
  bands: readonly [number, number][],
): string[] {
  if (markers.length === 0) return [];
  const lines = new Map<number, { x: number; labels: Map<string, number> }>();
  for (const m of markers) {
    if (!Number.isFinite(m.at)) continue;
    const sec = Math.min(xMax, Math.max(0, (m.at - start) / 1000));
    const x = xOf(sec);
    const key = Math.round(x / MARKER_MERGE_PX);
    let line = lines.get(key);
    if (line === undefined) lines.set(key, (line = { x, labels: new Map() }));
    line.labels.set(m.label, (line.labels.get(m.label) ?? 0) + 1);
  }
  const out: string[] = [`<g stroke="#b00020" stroke-width="1.2" stroke-dasharray="3 3">`];
  for (const { x, labels } of lines.values()) {
    const all = [...labels].map(([l, n]) => (n === 1 ? l : `${l} ×${n}`));
    const title = escapeXml(all.join(", "));
    for (const [top, bottom] of bands) {
      out.push(
        `<line data-marker="${title}" x1="${fmt(x)}" x2="${fmt(x)}" y1="${top}" y2="${bottom}"><title>${title}</title></line>`,
      );
    }
  }
  out.push(`</g>`, `<g fill="#b00020" font-size="10">`);
  for (const { x, labels } of lines.values()) {
    const names = [...labels.keys()];
    const shown =
      names.slice(0, MARKER_LABELS).join(", ") +
      (names.length > MARKER_LABELS ? ` +${names.length - MARKER_LABELS}` : "");
    const top = bands[0]?.[0] ?? PLOT.top;
    out.push(
      `<text transform="translate(${fmt(x + 3)} ${top + 4}) rotate(90)">${escapeXml(shown)}</text>`,
    );
  }
  out.push(`</g>`);
  return out;
}

interface Axis {
  readonly max: number;
  readonly ticks: readonly number[];
}

/** Axis from 0 to a round number at or above `max`, with about five round ticks. */
function niceAxis(min: number, max: number): Axis {
  if (!(max > min)) return { max: 1, ticks: [0, 1] };
  const rough = (max - min) / 5;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * magnitude >= rough) ?? 10) * magnitude;
  const top = Math.ceil(max / step) * step;
  const ticks: number[] = [];
  for (let t = min; t <= top + step / 2; t += step) ticks.push(Number(t.toPrecision(12)));
  return { max: top, ticks };
}

/** The largest value of any of the series, 0 at least (a loop: spreading 100k values overflows). */
function peak(series: readonly GrowthSeries[]): number {
  let max = 0;
  for (const s of series) for (const v of s.values) if (v > max) max = v;
  return max;
}

/** At most `maxPoints` points: each bucket keeps its lowest and highest value, in time order. */
function decimate(
  xs: readonly number[],
  ys: readonly number[],
  maxPoints: number,
): [number, number][] {
  if (xs.length <= maxPoints) return xs.map((x, i) => [x, ys[i] ?? 0]);
  const buckets = Math.floor(maxPoints / 2);
  const out: [number, number][] = [];
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor((b * xs.length) / buckets);
    const to = Math.floor(((b + 1) * xs.length) / buckets);
    let lo = from;
    let hi = from;
    for (let i = from; i < to; i++) {
      if ((ys[i] ?? 0) < (ys[lo] ?? 0)) lo = i;
      if ((ys[i] ?? 0) > (ys[hi] ?? 0)) hi = i;
    }
    for (const i of lo <= hi ? [lo, hi] : [hi, lo]) out.push([xs[i] ?? 0, ys[i] ?? 0]);
  }
  return out;
}

function verdictNote(v: SeriesVerdict): string {
  if (v.verdict === "insufficient-data") return "not enough data";
  return v.verdict === "leak" ? `leak (p=${v.pValue.toExponential(1)})` : "no leak";
}

/** Two decimals at most: enough for pixels, and keeps the file small. */
function fmt(n: number): string {
  return String(Math.round(n * 100) / 100);
}

function round(n: number, decimals: number): string {
  return String(Number(n.toFixed(decimals)));
}

function label(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(4)));
}

/**
 * Quotes a CSV field when it holds a comma, quote or line break (RFC 4180). Header cells all start
 * with a fixed name (`handles:`), so none can be read by a spreadsheet as a formula.
 */
function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Escapes markup characters; control characters XML 1.0 forbids outright become U+FFFD. */
function escapeXml(text: string): string {
  // eslint-disable-next-line no-control-regex -- matching the forbidden control characters is the point
  const special = /[&<>"']|[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g;
  return text.replace(special, (c) => XML_ENTITIES[c] ?? "\ufffd");
}

const XML_ENTITIES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
};
