// Argument and option checks for the whole library: one wording, one policy, one error code.
//
// Policy on unknown option names: an options object of timebound's own refuses a key it does not
// know, naming it and the known ones (a misspelt `timoutMs` would otherwise be ignored silently,
// and the default used). An options object that extends another library's (spawn's, fetch's
// init, grpc-js's call options, a driver's config) passes the keys it does not own through, and
// checks only its own.
import { type ErrorBrand, brandInstance } from "./error-brand.js";
import { describeValue } from "./describe.js";

/** Code of every error a bad argument or option gets (a TypeError or RangeError). */
export const INVALID_ARGUMENT = "TIMEBOUND_ERR_INVALID_ARGUMENT";
/** Code of the error an unknown option name gets (a TypeError). */
export const UNKNOWN_OPTION = "TIMEBOUND_ERR_UNKNOWN_OPTION";

const invalidArgumentBrand: ErrorBrand = {
  kind: "timebound.InvalidArgument",
  code: INVALID_ARGUMENT,
};
const unknownOptionBrand: ErrorBrand = { kind: "timebound.UnknownOption", code: UNKNOWN_OPTION };

/**
 * A TypeError for a value of the wrong kind: `message` names the function, the argument or
 * option, what it must be and what it got. `code` is {@link INVALID_ARGUMENT}.
 */
export function invalidType(message: string): TypeError {
  return brandInstance(new TypeError(message), invalidArgumentBrand);
}

/** A RangeError for a value of the right kind out of its range; `code` {@link INVALID_ARGUMENT}. */
export function outOfRange(message: string): RangeError {
  return brandInstance(new RangeError(message), invalidArgumentBrand);
}

/** Bounds of a number: inclusive, `max` may be Infinity; `infinity` also allows Infinity itself. */
export interface Range {
  readonly min: number;
  readonly max: number;
  /** Infinity is accepted as "never" (a timeout that never fires). */
  readonly infinity?: boolean;
  /** Only whole numbers. */
  readonly integer?: boolean;
}

function rangeText(r: Range, unit: string): string {
  const of = unit === "" ? "" : r.integer ? ` number of ${unit}` : ` of ${unit}`;
  const kind = `${r.integer ? "an integer" : "a number"}${of}`;
  if (r.min === -Infinity && r.max === Infinity) return kind; // any number
  const max = r.max === Infinity ? "Infinity" : r.max.toLocaleString("en-US");
  return `${kind} from ${r.min.toLocaleString("en-US")} to ${max}${r.infinity ? ", or Infinity" : ""}`;
}

/**
 * Checks a number against `range`; `what` is how the message names it (`"timeoutMs"`,
 * `"options.graceMs"`) and `unit` what it counts ("milliseconds", "" for none).
 */
export function checkNumber(
  value: unknown,
  fn: string,
  what: string,
  range: Range,
  unit = "",
): number {
  if (typeof value === "bigint") {
    throw invalidType(
      `${fn}: ${what} must be ${rangeText(range, unit)}, got the BigInt ${value}n (convert it with Number(...))`,
    );
  }
  if (typeof value !== "number") {
    throw invalidType(
      `${fn}: ${what} must be ${rangeText(range, unit)}, got ${describeValue(value)}`,
    );
  }
  if (range.infinity === true && value === Infinity) return value;
  const whole = range.integer !== true || Number.isInteger(value);
  if (Number.isNaN(value) || !whole || value < range.min || value > range.max) {
    throw outOfRange(
      `${fn}: ${what} must be ${rangeText(range, unit)}, got ${describeValue(value)}`,
    );
  }
  return value;
}

/** {@link checkNumber} for a duration in milliseconds. */
export function checkMs(value: unknown, fn: string, what: string, range: Range): number {
  return checkNumber(value, fn, what, range, "milliseconds");
}

/** Checks that `value` is a function. */
export function checkFunction<F extends (...args: never[]) => unknown>(
  value: unknown,
  fn: string,
  what: string,
): F {
  if (typeof value !== "function") {
    throw invalidType(`${fn}: ${what} must be a function, got ${describeValue(value)}`);
  }
  return value as F;
}

/** Checks that `value` is a boolean. */
export function checkBoolean(value: unknown, fn: string, what: string): boolean {
  if (typeof value !== "boolean") {
    throw invalidType(`${fn}: ${what} must be true or false, got ${describeValue(value)}`);
  }
  return value;
}

/** Checks that `value` is a string (non-empty unless `allowEmpty`). */
export function checkString(value: unknown, fn: string, what: string, allowEmpty = false): string {
  if (typeof value !== "string" || (!allowEmpty && value === "")) {
    const kind = allowEmpty ? "a string" : "a non-empty string";
    throw invalidType(`${fn}: ${what} must be ${kind}, got ${describeValue(value)}`);
  }
  return value;
}

/** Checks that `value` is one of `allowed`. */
export function checkOneOf<T extends string | number | boolean>(
  value: unknown,
  fn: string,
  what: string,
  allowed: readonly T[],
): T {
  if (!allowed.includes(value as T)) {
    const list = allowed.map((v) => JSON.stringify(v)).join(", ");
    throw invalidType(`${fn}: ${what} must be one of ${list}, got ${describeValue(value)}`);
  }
  return value as T;
}

const NO_OPTIONS: Readonly<Record<string, unknown>> = Object.freeze({});

/**
 * The options argument of `fn`: undefined gives an empty object; anything but a plain object is
 * refused. With `known`, a key that is not in it is refused too ({@link UNKNOWN_OPTION}); without
 * it (options that extend another library's), every key passes.
 */
export function optionsObject<T extends object>(
  value: T | undefined,
  fn: string,
  known?: readonly string[],
  what = "options",
): Partial<T> {
  if (value === undefined) return NO_OPTIONS as Partial<T>;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalidType(`${fn}: ${what} must be an object, got ${describeValue(value)}`);
  }
  if (known !== undefined) {
    for (const key in value) {
      if (!known.includes(key)) throw unknownOption(fn, key, known, what);
    }
  }
  return value;
}

/** The error for an option `fn` does not know. */
export function unknownOption(
  fn: string,
  key: string,
  known: readonly string[],
  what = "options",
): TypeError {
  const list = known.length === 0 ? "none" : known.join(", ");
  return brandInstance(
    new TypeError(`${fn}: unknown option ${what}.${key} (known: ${list})`),
    unknownOptionBrand,
  );
}

/**
 * Reads the options of `fn` with their defaults, each checked as it is read, each error naming
 * `fn` and `options.<key>`: one way to write an options check.
 *
 * @example
 * ```ts
 * function createPoller(options?: { everyMs?: number }) {
 *   const o = readOptions(options, "createPoller", ["everyMs"]);
 *   const everyMs = o.ms("everyMs", 1_000, { min: 1, max: 60_000 });
 *   return { everyMs };
 * }
 * ```
 */
export function readOptions<T extends object>(
  value: T | undefined,
  fn: string,
  known?: readonly (keyof T & string)[],
): OptionsReader<T> {
  return new OptionsReader(optionsObject(value, fn, known), fn);
}

/** See {@link readOptions}. */
export class OptionsReader<T extends object> {
  constructor(
    /** The options as given (checked to be an object). */
    readonly given: Partial<T>,
    readonly fn: string,
  ) {}

  /** The raw value of `key`, or undefined. */
  raw<K extends keyof T & string>(key: K): T[K] | undefined {
    return this.given[key];
  }

  /** A duration in ms within `range`, or `fallback` when absent. */
  ms(key: keyof T & string, fallback: number, range: Range): number {
    const v = this.given[key];
    return v === undefined ? fallback : checkMs(v, this.fn, `options.${key}`, range);
  }

  /** A number within `range` (counting `unit`), or `fallback` when absent. */
  number(key: keyof T & string, fallback: number, range: Range, unit = ""): number {
    const v = this.given[key];
    return v === undefined ? fallback : checkNumber(v, this.fn, `options.${key}`, range, unit);
  }

  /** A boolean, or `fallback` when absent. */
  boolean(key: keyof T & string, fallback: boolean): boolean {
    const v = this.given[key];
    return v === undefined ? fallback : checkBoolean(v, this.fn, `options.${key}`);
  }

  /** One of `allowed`, or `fallback` when absent. */
  oneOf<V extends string | number | boolean>(
    key: keyof T & string,
    fallback: V,
    allowed: readonly V[],
  ): V {
    const v = this.given[key];
    return v === undefined ? fallback : checkOneOf(v, this.fn, `options.${key}`, allowed);
  }

  /** A string, or `fallback` when absent. */
  string<D extends string | undefined>(
    key: keyof T & string,
    fallback: D,
    allowEmpty = false,
  ): string | D {
    const v = this.given[key];
    return v === undefined ? fallback : checkString(v, this.fn, `options.${key}`, allowEmpty);
  }

  /** A function, or `fallback` when absent. */
  function<F extends ((...args: never[]) => unknown) | undefined>(
    key: keyof T & string,
    fallback: F,
  ): F {
    const v = this.given[key];
    return v === undefined ? fallback : (checkFunction(v, this.fn, `options.${key}`) as F);
  }
}
