// The wait an answer asks for (Retry-After). What counts as transient is decided in classify.ts,
// one module for retry and the flow-control policies.

/** Retry-After beyond a day is nonsense (or a date typed wrong): treated as absent. */
const MAX_RETRY_AFTER_MS = 24 * 3600 * 1000;

/**
 * The wait an answer asks for in its `Retry-After` header, in ms: delay-seconds ("120") or an
 * HTTP date ("Wed, 21 Oct 2026 07:28:00 GMT"), read from a Response-like value or an error that
 * carries one (`headers`, or `response.headers`); undefined when there is none or it cannot be
 * read. A date in the past gives 0. Never throws.
 *
 * @example
 * ```ts
 * const res = await fetch(url);
 * if (res.status === 429) console.log(`asked to wait ${retryAfterMs(res) ?? "?"} ms`);
 * ```
 */
export function retryAfterMs(source: unknown, wallNow: number = Date.now()): number | undefined {
  try {
    const header = retryAfterHeader(source);
    if (header === undefined) return undefined;
    const text = header.trim();
    let ms: number;
    if (/^\d+(\.\d+)?$/.test(text)) ms = Number(text) * 1000;
    else {
      const at = Date.parse(text);
      if (Number.isNaN(at)) return undefined;
      ms = Math.max(0, at - wallNow);
    }
    return ms <= MAX_RETRY_AFTER_MS ? ms : undefined;
  } catch {
    return undefined;
  }
}

function retryAfterHeader(source: unknown): string | undefined {
  if (typeof source !== "object" || source === null) return undefined;
  const s = source as { headers?: unknown; response?: { headers?: unknown } };
  return headerValue(s.headers) ?? headerValue(s.response?.headers);
}

function headerValue(headers: unknown): string | undefined {
  if (typeof headers !== "object" || headers === null) return undefined;
  const h = headers as { get?: unknown } & Record<string, unknown>;
  const raw: unknown =
    typeof h.get === "function"
      ? (h.get as (name: string) => unknown).call(headers, "retry-after")
      : (h["retry-after"] ?? h["Retry-After"]);
  if (typeof raw === "string") return raw;
  if (typeof raw === "number") return String(raw);
  if (Array.isArray(raw) && typeof raw[0] === "string") return raw[0];
  return undefined;
}
