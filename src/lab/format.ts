/** Number formatting shared by the lab's scenarios, so every table reads the same way. */

/** @internal A count with thousands separators: `20,000`. */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** @internal Milliseconds: whole numbers from 10 ms up (`1,250 ms`), one decimal below (`3.4 ms`). */
export function formatMs(ms: number): string {
  const v = Math.abs(ms) >= 10 ? Math.round(ms) : Math.round(ms * 10) / 10;
  return `${(v || 0).toLocaleString("en-US")} ms`; // `|| 0`: no "-0 ms"
}

/** @internal A signed size change in MB with one decimal (`+12.3 MB`, `-0.1 MB`, `+0.0 MB`). */
export function formatBytesDelta(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  const shown = Math.abs(mb).toFixed(1);
  return `${mb < 0 && shown !== "0.0" ? "-" : "+"}${shown} MB`; // never "-0.0 MB"
}

/** @internal Bytes per item, rounded: `612 B`. */
export function formatBytesEach(bytes: number): string {
  return `${formatCount(bytes)} B`;
}
