// Diagnostics runs inside the program's own calls; whatever goes wrong in it stays in it.
const reported = new Set<string>();

/**
 * @internal Wraps a diagnostics callback that runs inside the program's own calls (a
 * diagnostics_channel subscriber, a timer wrapper) so that its exceptions are contained: a bug in
 * diagnostics must never throw into the program. The first failure of each callback is reported on
 * stderr; the program goes on.
 */
export function containExceptions<A extends unknown[]>(
  where: string,
  fn: (...args: A) => void,
): (...args: A) => void {
  return (...args: A): void => {
    try {
      fn(...args);
    } catch (err) {
      if (reported.has(where)) return;
      reported.add(where);
      const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
      process.stderr.write(
        `timebound diagnostics: internal error in ${where} (ignored): ${text}\n`,
      );
    }
  };
}
