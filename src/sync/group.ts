import {
  background,
  type CancelableContext,
  type Context,
  type ContextError,
  withCancel,
} from "../core/index.js";
import {
  checkContext,
  checkFunction,
  checkNumber,
  outOfRange,
  readOptions,
} from "../core/internal.js";

/** A function run by a {@link Group}; it gets the group's context. */
export type GroupTask = (ctx: Context) => unknown;

/**
 * Go's errgroup: runs functions concurrently, waits for them all, and reports the first error.
 * `new Group()` is Go's zero `errgroup.Group`: tasks get `background()`. Made with
 * {@link Group.withContext}, the first error (or `wait()` returning) cancels the
 * group's context, so the siblings of a failed task stop too.
 *
 * @example
 * ```ts
 * const g = Group.withContext(ctx);
 * for (const id of ids) g.go((ctx) => fetchOne(ctx, id));
 * await g.wait(); // rejects with the first error; the others were canceled with it as cause
 * ```
 */
export class Group {
  #active = 0;
  #limit = Infinity;
  readonly #queued: GroupTask[] = [];
  #failed = false;
  #firstError: unknown = undefined;
  /** The context's error when the first queued task was dropped unstarted; wait() rejects with it. */
  #dropError: ContextError | undefined = undefined;
  #waiters: (() => void)[] = [];
  #cancelable: CancelableContext | undefined = undefined;
  #context: Context = background();

  /** The context each task gets; canceled on the first error when made by `withContext`. */
  get ctx(): Context {
    return this.#context;
  }

  /**
   * A group whose context is a child of `parent`, canceled (with the error as cause) when a
   * task fails, and when `wait()` settles.
   */
  static withContext(parent: Context, options?: { readonly name?: string }): Group {
    checkContext(parent, "Group.withContext");
    const name = readOptions(options, "Group.withContext", ["name"]).string("name", "group", true);
    const group = new Group();
    group.#context = group.#cancelable = withCancel(parent, { name });
    return group;
  }

  /**
   * Bounds how many tasks run at once (Go's `SetLimit`); a negative number or Infinity lifts the
   * bound. 0 is refused (Go allows it, and every `go()` then blocks for ever). Throws if tasks
   * are running, as Go panics.
   */
  setLimit(n: number): void {
    checkNumber(n, "Group.setLimit", "n", LIMIT);
    if (n === 0) {
      throw outOfRange(
        "Group.setLimit: n must not be 0: no task could ever start and wait() would never settle" +
          " (use a negative number or Infinity for no limit)",
      );
    }
    if (this.#active > 0 || this.#queued.length > 0) {
      throw new Error(`Group.setLimit: cannot change the limit while ${this.#active} tasks run`);
    }
    this.#limit = n < 0 ? Infinity : n;
  }

  /**
   * Runs `fn` now, or queues it until a slot frees when the limit is reached. Queued tasks
   * that have not started when the group's context ends are dropped, not started doomed, and
   * `wait()` then rejects: work that never ran is not a success.
   */
  go(fn: GroupTask): void {
    checkFunction(fn, "Group.go", "fn");
    if (this.#active < this.#limit) this.#start(fn);
    else this.#queued.push(fn);
  }

  /** Runs `fn` now if a slot is free; returns false (and runs nothing) otherwise. */
  tryGo(fn: GroupTask): boolean {
    checkFunction(fn, "Group.tryGo", "fn");
    if (this.#active >= this.#limit) return false;
    this.#start(fn);
    return true;
  }

  /**
   * Waits for every task; rejects with the first error a task threw, or, when none did but
   * queued tasks were dropped because the group's context ended first, with that context's
   * error (its cause kept). Cancels the group's context either way.
   */
  async wait(): Promise<void> {
    if (this.#active > 0 || this.#queued.length > 0) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    this.#cancelable?.cancel();
    if (this.#failed) throw this.#firstError;
    if (this.#dropError !== undefined) throw this.#dropError;
  }

  #start(fn: GroupTask): void {
    this.#active++;
    let result: unknown;
    try {
      result = fn(this.#context);
    } catch (err) {
      this.#finish(true, err);
      return;
    }
    Promise.resolve(result).then(
      () => this.#finish(false, undefined),
      (err: unknown) => this.#finish(true, err),
    );
  }

  #finish(failed: boolean, err: unknown): void {
    this.#active--;
    if (failed && !this.#failed) {
      this.#failed = true;
      this.#firstError = err;
      this.#cancelable?.cancel(err);
    }
    while (this.#active < this.#limit && this.#queued.length > 0) {
      const next = this.#queued.shift()!;
      const err = this.#context.err;
      if (err === undefined) this.#start(next);
      else this.#dropError ??= err;
    }
    if (this.#active === 0 && this.#queued.length === 0) {
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const w of waiters) w();
    }
  }
}

/** Any whole number; Infinity (and any negative number) lifts the bound. */
const LIMIT = { min: -Infinity, max: Infinity, integer: true, infinity: true } as const;
