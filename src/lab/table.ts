/** @internal A column of a plain-text table. */
export interface Column {
  readonly header: string;
  /** Longer cells wrap at spaces (or are cut, for a longer word). Default: no limit. */
  readonly maxWidth?: number;
  /** Default "left". */
  readonly align?: "left" | "right";
}

/**
 * @internal A row of cells (`\n` starts a new line within a cell), a {@link TableSpan} across all
 * columns, or {@link GAP} for a blank line.
 */
export type TableRow = readonly string[] | TableSpan | typeof GAP;

/** @internal Text printed across the columns as it is (not wrapped): a heading for the rows below it. */
export interface TableSpan {
  readonly span: string;
}

/** @internal A blank line between rows, to set groups apart. */
export const GAP: unique symbol = Symbol("gap");

/** @internal Options for {@link renderTable}. */
export interface TableOptions {
  /** Put before every line. Default "". */
  readonly indent?: string;
  /** Between columns. Default two spaces. */
  readonly gutter?: string;
}

/**
 * @internal Renders rows as a plain-text table: a header, a rule of dashes under it, and one line
 * or more per row, each column as wide as its widest line (up to `maxWidth`). Lines carry no
 * trailing spaces. Width is counted in UTF-16 units, which is right for the text the lab prints.
 *
 * @example
 * ```ts
 * const columns = [{ header: "measure" }, { header: "wrong", align: "right" as const }];
 * renderTable(columns, [["timers", "20,000"]]);
 * // measure   wrong
 * // -------  ------
 * // timers   20,000
 * ```
 */
export function renderTable(
  columns: readonly Column[],
  rows: readonly TableRow[],
  options: TableOptions = {},
): string {
  const indent = options.indent ?? "";
  const gutter = options.gutter ?? "  ";
  const wrapped = rows.map((r) =>
    r === GAP || isSpan(r)
      ? r
      : columns.map((col, i) => wrapCell(r[i] ?? "", col.maxWidth ?? Infinity)),
  );
  const widths = columns.map((col, i) => {
    let w = col.header.length;
    for (const r of wrapped) {
      if (r === GAP || isSpan(r)) continue;
      for (const line of r[i] ?? []) w = Math.max(w, line.length);
    }
    return w;
  });
  const line = (cells: readonly string[]): string =>
    (
      indent +
      cells
        .map((cell, i) => {
          const w = widths[i] ?? 0;
          return columns[i]?.align === "right" ? cell.padStart(w) : cell.padEnd(w);
        })
        .join(gutter)
    ).trimEnd();

  const out = [line(columns.map((c) => c.header)), line(widths.map((w) => "-".repeat(w)))];
  for (const r of wrapped) {
    if (r === GAP) {
      out.push("");
      continue;
    }
    if (isSpan(r)) {
      for (const text of r.span.split("\n")) out.push((indent + text).trimEnd());
      continue;
    }
    const height = Math.max(1, ...r.map((cell) => cell.length));
    for (let k = 0; k < height; k++) out.push(line(r.map((cell) => cell[k] ?? "")));
  }
  return out.join("\n") + "\n";
}

function isSpan(row: unknown): row is TableSpan {
  return typeof row === "object" && row !== null && "span" in row;
}

/** @internal Splits a cell into lines of at most `width` characters, breaking at spaces where it can. */
export function wrapCell(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split("\n")) {
    let current = "";
    for (const word of paragraph.split(" ").filter((w) => w !== "")) {
      if (current === "") current = word;
      else if (current.length + 1 + word.length <= width) current += " " + word;
      else {
        lines.push(current);
        current = word;
      }
      while (current.length > width) {
        lines.push(current.slice(0, width));
        current = current.slice(width);
      }
    }
    lines.push(current);
  }
  return lines;
}
