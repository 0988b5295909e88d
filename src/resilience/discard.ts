// A result a policy drops (a retried answer, a hedge that lost) may hold a connection: a
// Response-like value's body is canceled so its connection is freed at once.

/** Frees what a dropped Response-like result holds (its body's connection). Never throws. */
export function discard(value: unknown): void {
  try {
    const body = (value as { body?: { cancel?: () => Promise<void> } } | null)?.body;
    if (typeof body?.cancel === "function") body.cancel().catch(() => {});
  } catch {
    // a body already read or locked: nothing to free
  }
}
