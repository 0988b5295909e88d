// Error identity that survives two copies of timebound in one process (the ESM and CJS builds,
// or two versions): `instanceof` compares constructors, which differ between copies, so every
// error class carries a brand under a registry symbol (`Symbol.for`, shared by all copies) and
// answers `instanceof` from it. A subclass a user writes keeps ordinary `instanceof`.

/** The kinds an error is, outermost class last: ["timebound.ContextError", "timebound.Canceled"]. */
const KINDS = Symbol.for("timebound.error.kinds");
/** The kind of a class, on the class itself. */
const KIND = Symbol.for("timebound.error.kind");

/** What makes an error class one of timebound's. */
export interface ErrorBrand {
  /** Stable identity, the same in every copy: "timebound.Canceled". */
  readonly kind: string;
  /** The `code` users match on: "TIMEBOUND_ERR_...". */
  readonly code: string;
}

type Branded = { readonly [KINDS]?: readonly string[] };

/**
 * Makes `cls` a timebound error class: `name` and `code` on its prototype (V8 formats the stack
 * header from the prototype's `name` while the constructor runs, before instance fields exist),
 * its brand after its parent's, and an `instanceof` that recognises instances from any copy.
 */
export function defineErrorClass(
  cls: abstract new (...args: never[]) => Error,
  name: string,
  brand: ErrorBrand,
): void {
  const proto = cls.prototype as Branded;
  const kinds = [...(proto[KINDS] ?? []), brand.kind];
  Object.defineProperty(proto, KINDS, { value: Object.freeze(kinds) });
  Object.defineProperty(proto, "name", { value: name, writable: true, configurable: true });
  Object.defineProperty(proto, "code", { value: brand.code, writable: true, configurable: true });
  Object.defineProperty(cls, KIND, { value: brand.kind });
  Object.defineProperty(cls, Symbol.hasInstance, { value: hasInstance, configurable: true });
}

function hasInstance(this: abstract new (...args: never[]) => unknown, value: unknown): boolean {
  // A class a user derived from ours has no brand of its own: ordinary instanceof.
  if (!Object.hasOwn(this, KIND)) return Function.prototype[Symbol.hasInstance].call(this, value);
  return hasKind(value, (this as unknown as Record<symbol, string>)[KIND]!);
}

/** Brands one error object (a TypeError for a bad argument, say) as `brand`, with its `code`. */
export function brandInstance<E extends Error>(err: E, brand: ErrorBrand): E {
  Object.defineProperty(err, KINDS, { value: Object.freeze([brand.kind]) });
  Object.defineProperty(err, "code", {
    value: brand.code,
    writable: true,
    configurable: true,
    enumerable: true, // as Node's own errors show their code
  });
  return err;
}

/** Whether `value` is an error of kind `kind` (or a subclass of it), from any copy. Never throws. */
export function hasKind(value: unknown, kind: string): boolean {
  return kindsOf(value)?.includes(kind) === true;
}

/** The brand kinds of `value`, or undefined if it is not one of timebound's errors. Never throws. */
export function kindsOf(value: unknown): readonly string[] | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  try {
    const kinds = (value as Branded)[KINDS];
    return Array.isArray(kinds) ? kinds : undefined;
  } catch {
    return undefined; // a revoked proxy, a getter that throws: not ours
  }
}
