import {
  background,
  type CancelableContext,
  type Context,
  type ContextError,
  withCancel,
} from "../core/index.js";
import { checkContext, describeValue } from "../core/internal.js";

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
  private active = 0;
  private limit = Infinity;
  private readonly queued: GroupTask[] = [];
  private failed = false;
  private firstError: unknown = undefined;
  /** The context's error when the first queued task was dropped unstarted; wait() rejects with it. */
  private dropError: ContextError | undefined = undefined;
  private waiters: (() => void)[] = [];
  private cancelable: CancelableContext | undefined = undefined;
  private context: Context = background();

  /** The context each task gets; canceled on the first error when made by `withContext`. */
  get ctx(): Context {
    return this.context;
  }

  /**
   * A group whose context is a child of `parent`, canceled (with the error as cause) when a
   * task fails, and when `wait()` settles.
   */
  static withContext(parent: Context, options?: { readonly name?: string }): Group {
    checkContext(parent, "Group.withContext");
    const group = new Group();
    group.context = group.cancelable = withCancel(parent, { name: options?.name ?? "group" });
    return group;
  }

  /**
   * Bounds how many tasks run at once (Go's `SetLimit`); a negative number or Infinity lifts the
   * bound. 0 is refused (Go allows it, and every `go()` then blocks for ever). Throws if tasks
   * are running, as Go panics.
   */
  setLimit(n: number): void {
    if (typeof n !== "number" || Number.isNaN(n) || (!Number.isInteger(n) && n !== Infinity)) {
      throw new RangeError(`Group.setLimit: n must be an integer, got ${describeValue(n)}`);
    }
    if (n === 0) {
      throw new RangeError(
        "Group.setLimit: n must not be 0: no task could ever start and wait() would never settle" +
          " (use a negative number or Infinity for no limit)",
      );
    }
    if (this.active > 0 || this.queued.length > 0) {
      throw new Error(`Group.setLimit: cannot change the limit while ${this.active} tasks run`);
    }
    this.limit = n < 0 ? Infinity : n;
  }

  /**
   * Runs `fn` now, or queues it until a slot frees when the limit is reached. Queued tasks
   * that have not started when the group's context ends are dropped, not started doomed, and
   * `wait()` then rejects: work that never ran is not a success.
   */
  go(fn: GroupTask): void {
    checkTask(fn, "Group.go");
    if (this.active < this.limit) this.start(fn);
    else this.queued.push(fn);
  }

  /** Runs `fn` now if a slot is free; returns false (and runs nothing) otherwise. */
  tryGo(fn: GroupTask): boolean {
    checkTask(fn, "Group.go");
    if (this.active >= this.limit) return false;
    this.start(fn);
    return true;
  }

  /**
   * Waits for every task; rejects with the first error a task threw, or, when none did but
   * queued tasks were dropped because the group's context ended first, with that context's
   * error (its cause kept). Cancels the group's context either way.
   */
  async wait(): Promise<void> {
    if (this.active > 0 || this.queued.length > 0) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    this.cancelable?.cancel();
    if (this.failed) throw this.firstError;
    if (this.dropError !== undefined) throw this.dropError;
  }

  private start(fn: GroupTask): void {
    this.active++;
    let result: unknown;
    try {
      result = fn(this.ctx);
    } catch (err) {
      this.finish(true, err);
      return;
    }
    Promise.resolve(result).then(
      () => this.finish(false, undefined),
      (err: unknown) => this.finish(true, err),
    );
  }

  private finish(failed: boolean, err: unknown): void {
    this.active--;
    if (failed && !this.failed) {
      this.failed = true;
      this.firstError = err;
      this.cancelable?.cancel(err);
    }
    while (this.active < this.limit && this.queued.length > 0) {
      const next = this.queued.shift()!;
      const err = this.ctx.err;
      if (err === undefined) this.start(next);
      else this.dropError ??= err;
    }
    if (this.active === 0 && this.queued.length === 0) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w();
    }
  }
}

function checkTask(fn: unknown, where: string): void {
  if (typeof fn !== "function") {
    throw new TypeError(`${where}: fn must be a function, got ${describeValue(fn)}`);
  }
}
