import { type Context, current, now } from "../core/index.js";
import { capDelay } from "../core/internal.js";
import { contextState } from "../core/introspect.js";
import { AsyncLocalStorage } from "node:async_hooks";
import { promisify } from "node:util";
import { containExceptions } from "./contain.js";
import { type ContextRecord, EventLog, Holds, LiveList, nodeOf } from "./records.js";
import type { Frame } from "./model.js";
import { StackRef, isOwnFrame } from "./stacks.js";
import { fileURLToPath } from "node:url";
import type { Tracker } from "./tracker.js";

/** @internal */
export type TimerKind = "setTimeout" | "setInterval" | "setImmediate";

/** @internal A sampled timer, remembered while it may still be armed. */
export interface TimerRecord {
  /** Neighbours in the watch's list of sampled timers, while in it. */
  prev: TimerRecord | undefined;
  next: TimerRecord | undefined;
  readonly id: number;
  readonly kind: TimerKind;
  /** Weak: a timer that fired and was dropped must be collectable as before. */
  readonly timer: WeakRef<object>;
  /** The ambient context (`run(ctx, …)`) it was created in, if any. */
  readonly context: ContextRecord | undefined;
  readonly contextName: string | undefined;
  readonly createdAt: number;
  readonly delayMs: number;
  readonly stack: StackRef;
}

/** @internal A timer created inside `run(ctx, …)` after `ctx` had ended: work that ignores cancellation. */
export interface LateTimerEvent {
  readonly kind: TimerKind;
  readonly context: ContextRecord;
  readonly contextName: string | undefined;
  readonly at: number;
  readonly stack: StackRef;
}

/**
 * @internal A `setTimeout` that re-arms itself from its own callback (the same call site, called
 * while the timer it made runs): a loop, the seed's recursive `time.AfterFunc`.
 */
export interface TimerLoop {
  readonly kind: TimerKind;
  /** Where the loop re-arms (the stack of its first re-arm). */
  readonly stack: StackRef;
  /** Where the loop's first timer was made, when that one was sampled. */
  readonly start: readonly Frame[] | undefined;
  readonly context: ContextRecord | undefined;
  readonly contextName: string | undefined;
  readonly firstAt: number;
  lastAt: number;
  rearms: number;
  delayMs: number;
  /** The loop's latest timer: while it is armed, the loop goes on. */
  last: WeakRef<object>;
}

/** What a wrapped `setTimeout` callback knows about the timer it belongs to. */
interface TimerRun {
  /** Innermost frame of the call that made it, when known (made inside another timer's callback). */
  site: string | undefined;
  stack: StackRef | undefined;
  /** Its creation stack, when it was sampled. */
  start: StackRef | undefined;
  /** Its record, while it is sampled and armed. */
  record: TimerRecord | undefined;
  loop: TimerLoop | undefined;
  /**
   * The timer whose callback began the chain of re-arms this one belongs to (made where the loop
   * started: `setTimeout(() => poll(), ms)` in main), once its call site is known.
   */
  startedBy: TimerRun | undefined;
}

/** Where a timer function was called: `file:line:col`, and the function that called it. */
interface CallSite {
  readonly site: string;
  readonly functionName: string;
}

/**
 * `file:line:col` of whoever called `below` and that caller's function name, read from V8's
 * structured call sites; undefined when that is timebound's own code or unknown.
 */
function rawCallSite(below: TimerFunction): CallSite | undefined {
  const holder: { stack?: unknown } = {};
  // Saved as a value and put back as it was (a property, not a method called on its own).
  const prepare: unknown = Reflect.get(Error, "prepareStackTrace");
  const limit = Error.stackTraceLimit;
  try {
    Error.prepareStackTrace = (_err, sites) => sites;
    Error.stackTraceLimit = 1;
    Error.captureStackTrace(holder, below);
    const site = (holder.stack as NodeJS.CallSite[] | undefined)?.[0];
    const file = site?.getFileName() ?? undefined;
    if (site === undefined || file === undefined) return undefined;
    const path = file.startsWith("file://") ? fileURLToPath(file) : file;
    if (isOwnFrame({ functionName: "", file: path, line: 0, column: 0 })) return undefined;
    return {
      site: `${path}:${site.getLineNumber() ?? 0}:${site.getColumnNumber() ?? 0}`,
      functionName: site.getFunctionName() ?? "",
    };
  } finally {
    Reflect.set(Error, "prepareStackTrace", prepare);
    Error.stackTraceLimit = limit;
  }
}

/** The `setTimeout` whose callback is running right now (synchronously), if any. */
let runningTimer: TimerRun | undefined;

/**
 * The `setTimeout` whose callback's async continuation is running: `async function poll() {
 * await work(); setTimeout(() => poll(), ms); }` re-arms after an await, when no callback runs
 * synchronously any more and the arrow passed is a new function each time.
 *
 * On Node 20 and 22 the first AsyncLocalStorage in use turns on V8's promise hooks, which cost
 * every promise several times its price; a program whose timer callbacks are all synchronous need
 * not pay that. So callbacks are run inside it only once there is an async one to follow (a
 * callback that is an async function, or that returned a promise) or once the hooks are on anyway
 * (a timer made inside `run(ctx, …)`: the core's storage is in use), and always on Node 24+,
 * whose AsyncLocalStorage needs no hooks, or from the start when asked (`followAsyncTimers`,
 * which `timebound diagnose` sets). Until then, an arrow that starts an async function and
 * returns nothing (`() => { void poll(); }`) is not followed.
 */
const timerContinuations = new AsyncLocalStorage<TimerRun>();
const FOLLOW_FROM_START = Number(process.versions.node.split(".")[0]) >= 24;
let followAsyncCallbacks = FOLLOW_FROM_START;

/**
 * Callbacks that ran as a `setTimeout` callback and returned a promise (async functions), with
 * their latest run: `async function poll() { await work(); setTimeout(poll, ms); }` re-arms after
 * an await, when no callback runs synchronously any more, so the loop is recognised by the
 * function passed again. Weak: a callback nobody holds goes.
 */
const asyncCallbacks = new WeakMap<object, TimerRun>();

function isAsyncFunction(fn: object): boolean {
  return (fn as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === "AsyncFunction";
}

/** The timer functions as Node installed them, put back when tracking stops. */
const nodeTimers = {
  setTimeout: globalThis.setTimeout,
  setInterval: globalThis.setInterval,
  setImmediate: globalThis.setImmediate,
  clearTimeout: globalThis.clearTimeout,
  clearInterval: globalThis.clearInterval,
};

/**
 * A sampled timer's record, on the Timeout itself, so that clearing it forgets it at once: a
 * cleared Timeout still holds its arguments (the core's deadline timer: its context), and a
 * WeakRef's target survives every young collection, so a list forgotten only when it grows kept
 * whole requests alive into the old generation.
 */
const SAMPLED = Symbol("timebound.diagnostics.sampled");

type ClearFunction = (timer: unknown) => void;
type ClearKind = "clearTimeout" | "clearInterval";

/**
 * @internal Diagnostics' own timers: Node's functions (never the tracking wrappers, so diagnostics
 * does not watch itself), with the delay capped as every timer of the library is ({@link
 * capDelay}).
 */
export const originalTimers = {
  setTimeout: (callback: () => void, delayMs: number): NodeJS.Timeout =>
    nodeTimers.setTimeout(callback, capDelay(delayMs)),
  setInterval: (callback: () => void, intervalMs: number): NodeJS.Timeout =>
    nodeTimers.setInterval(callback, capDelay(intervalMs)),
  setImmediate: nodeTimers.setImmediate,
  clearInterval: globalThis.clearInterval,
  clearTimeout: globalThis.clearTimeout,
};

type TimerFunction = (...args: unknown[]) => object;
type Globals = Record<TimerKind, TimerFunction> & Record<ClearKind, ClearFunction>;

// Stack captures for post-end timers are rate-limited: a tight timer loop after its context
// ended must not turn into a capture per iteration. The rest are counted.
const LATE_CAPTURES_PER_SECOND = 100;
/** The sampled list is walked to forget fired timers when it reaches this size, or twice the armed ones. */
const MIN_PRUNE_AT = 64;

/** Node marks a Timeout or Immediate `_destroyed` once it fired (not repeating) or was cleared. */
function isArmed(timer: object | undefined): boolean {
  return timer !== undefined && (timer as { _destroyed?: unknown })._destroyed !== true;
}

/**
 * @internal Watches timers while tracking: replaces the global `setTimeout`, `setInterval` and
 * `setImmediate` with thin wrappers. Every call checks the ambient context (one AsyncLocalStorage
 * read): a timer created after its context ended is recorded (rate-limited). One call in
 * `sampleEvery` (every `setInterval`) also records the creation stack and keeps a weak reference, so that a timer still
 * armed after its context ended, or a site whose timers pile up, can be named. Imports of
 * `node:timers` and `timers/promises` are not wrapped.
 */
export class TimerWatch {
  readonly late: EventLog<LateTimerEvent>;
  readonly #loops = new Map<string, TimerLoop>();
  #loopWindowStart = 0;
  #loopCaptures = 0;
  readonly #maxLoops: number;
  /**
   * Sampled timers that may still be armed. A setTimeout's record leaves as its callback runs: a
   * fired timer's callback holds what the callback held (often a request's contexts and its
   * state), and a WeakRef's target survives every young collection.
   */
  readonly #sampled = new LiveList<TimerRecord>();
  #calls = 0;
  #lateWindowStart = 0;
  #lateCaptures = 0;
  #lastPrune = -Infinity;
  readonly #everyTimer = new Holds();
  #pruneAt = MIN_PRUNE_AT;
  /** Timers not recorded because `maxTimers` were already armed. */
  dropped = 0;
  #installed: Partial<Globals> = {};

  readonly #tracker: Tracker;
  readonly #sampleEvery: number;
  readonly #maxTimers: number;

  readonly #followFromStart: boolean;

  constructor(
    tracker: Tracker,
    sampleEvery: number,
    maxTimers: number,
    maxEvents: number,
    followFromStart = FOLLOW_FROM_START,
  ) {
    this.#followFromStart = followFromStart;
    this.late = new EventLog(maxEvents);
    this.#maxLoops = maxEvents;
    this.#tracker = tracker;
    this.#sampleEvery = sampleEvery;
    this.#maxTimers = maxTimers;
  }

  install(): void {
    if (this.#followFromStart) followAsyncCallbacks = true;
    const globals = globalThis as unknown as Globals;
    for (const kind of ["setTimeout", "setInterval", "setImmediate"] as const) {
      const original = globals[kind];
      const watch = containExceptions(`${kind} wrapper`, this.#onCreated.bind(this));
      const onRearm = containExceptions(`${kind} loop watch`, this.#onRearm.bind(this));
      const fired = containExceptions(`${kind} callback watch`, this.#fired.bind(this));
      const wrapper = function (this: unknown, ...args: unknown[]): object {
        const callback = args[0];
        let parent =
          runningTimer ?? (followAsyncCallbacks ? timerContinuations.getStore() : undefined);
        let again: ((...args: never[]) => unknown) | undefined;
        let run: TimerRun | undefined;
        if (kind === "setTimeout" && typeof callback === "function") {
          if (parent === undefined) {
            parent = asyncCallbacks.get(callback);
            if (parent !== undefined) again = callback as (...args: never[]) => unknown;
          }
          // An async function passed as it is: followed from its first run.
          if (!followAsyncCallbacks && isAsyncFunction(callback)) followAsyncCallbacks = true;
          const self: TimerRun = {
            site: undefined,
            stack: undefined,
            start: undefined,
            record: undefined,
            loop: undefined,
            startedBy: undefined,
          };
          run = self;
          args[0] = function (this: unknown, ...callbackArgs: unknown[]): unknown {
            const previous = runningTimer;
            runningTimer = self;
            let result: unknown;
            try {
              result = followAsyncCallbacks
                ? timerContinuations.run(self, Reflect.apply, callback, this, callbackArgs)
                : (Reflect.apply(callback, this, callbackArgs) as unknown);
            } finally {
              runningTimer = previous;
              if (self.record !== undefined) fired(self);
            }
            // Only remembered, never awaited or handled: the promise stays the program's.
            if (result instanceof Promise) {
              asyncCallbacks.set(callback, self);
              followAsyncCallbacks = true;
            }
            return result;
          };
        }
        const timer: object = Reflect.apply(original, this, args);
        watch(kind, timer, args[1], wrapper, run);
        if (run !== undefined && parent !== undefined) {
          onRearm(timer, args[1], wrapper, run, parent, again);
        }
        return timer;
      };
      Object.defineProperty(wrapper, "name", { value: kind });
      // util.promisify(setTimeout) looks for this; keep it working.
      const custom = (original as unknown as Record<symbol, unknown>)[promisify.custom];
      if (custom !== undefined) Object.defineProperty(wrapper, promisify.custom, { value: custom });
      globals[kind] = wrapper;
      this.#installed[kind] = wrapper;
    }
    this.#installClears();
  }

  /** Wraps `clearTimeout` and `clearInterval`: a sampled timer cleared is forgotten at once. */
  #installClears(): void {
    const globals = globalThis as unknown as Globals;
    for (const kind of ["clearTimeout", "clearInterval"] as const) {
      const original = globals[kind];
      const forget = containExceptions(`${kind} wrapper`, (timer: object) => this.#forget(timer));
      const wrapper = function (this: unknown, timer: unknown): void {
        Reflect.apply(original, this, [timer]);
        if (typeof timer === "object" && timer !== null && SAMPLED in timer) forget(timer);
      };
      Object.defineProperty(wrapper, "name", { value: kind });
      globals[kind] = wrapper;
      this.#installed[kind] = wrapper;
    }
  }

  #forget(timer: object): void {
    const record = (timer as { [SAMPLED]?: TimerRecord })[SAMPLED];
    if (record !== undefined && !isArmed(timer)) this.#sampled.delete(record);
  }

  /** Puts the originals back, unless someone wrapped ours since; then ours becomes a no-op. */
  uninstall(): void {
    const globals = globalThis as unknown as Globals;
    for (const kind of ["setTimeout", "setInterval", "setImmediate"] as const) {
      const wrapper = this.#installed[kind];
      if (wrapper !== undefined && globals[kind] === wrapper) {
        globals[kind] = nodeTimers[kind] as unknown as TimerFunction;
      }
    }
    for (const kind of ["clearTimeout", "clearInterval"] as const) {
      const wrapper = this.#installed[kind];
      if (wrapper !== undefined && globals[kind] === wrapper) {
        globals[kind] = nodeTimers[kind] as unknown as ClearFunction;
      }
    }
    this.#installed = {};
    followAsyncCallbacks = FOLLOW_FROM_START;
    timerContinuations.disable();
  }

  /** How many timer creations were seen (all, not just sampled). */
  get created(): number {
    return this.#calls;
  }

  /** How many timers one sampled timer stands for (1 while {@link sampleAll} holds). */
  get sampling(): number {
    return this.#everyTimer.held ? 1 : this.#sampleEvery;
  }

  /**
   * Records every timer until the returned function is called (leak checks need them all).
   * Calls nest.
   */
  sampleAll(): () => void {
    return this.#everyTimer.hold();
  }

  /** Sampled timers that are still armed; forgets the others. */
  armed(): TimerRecord[] {
    const out: TimerRecord[] = [];
    for (const record of this.#sampled) {
      if (isArmed(record.timer.deref())) out.push(record);
      else this.#sampled.delete(record);
    }
    return out;
  }

  /**
   * A sampled setTimeout's callback ran: the timer is over (Node marks it so only once the
   * callback returns). One the callback re-armed with `refresh()` is no longer listed.
   */
  #fired(run: TimerRun): void {
    const record = run.record;
    if (record === undefined) return;
    run.record = undefined;
    this.#sampled.delete(record);
  }

  /** Timer loops still going (their latest timer is armed). */
  loops(): TimerLoop[] {
    return [...this.#loops.values()].filter((loop) => isArmed(loop.last.deref()));
  }

  /**
   * A `setTimeout` called while another one's callback runs, or given again the async callback
   * of an earlier one (`again`: a re-arm after an await). Its call site is captured (rate-limited;
   * beyond the budget a timer made by a known loop's callback is taken to continue it): the same
   * site as the running timer's is a loop, and so is an async callback that passes itself again
   * from its own body (the call site's function is the callback: not a flush scheduled again by
   * other code while the last one still runs).
   */
  #onRearm(
    timer: object,
    delay: unknown,
    wrapper: TimerFunction,
    run: TimerRun,
    parent: TimerRun,
    again: ((...args: never[]) => unknown) | undefined,
  ): void {
    if (this.#installed.setTimeout === undefined) return;
    const t = now();
    if (t - this.#loopWindowStart >= 1_000) {
      this.#loopWindowStart = t;
      this.#loopCaptures = 0;
    }
    let site: string | undefined;
    let stack: StackRef | undefined;
    let fromItself = again !== undefined && parent.loop !== undefined;
    if (this.#loopCaptures < LATE_CAPTURES_PER_SECOND) {
      this.#loopCaptures++;
      // The call site from V8's raw call sites (no formatting, no source-map lookup: reading a
      // stack per re-arm would itself hold up the loop); the stack is formatted only if reported.
      const call = rawCallSite(wrapper);
      if (call === undefined) return;
      site = call.site;
      fromItself =
        again !== undefined &&
        again.name !== "" &&
        (call.functionName === again.name || call.functionName.endsWith(`.${again.name}`));
      stack = StackRef.capture(wrapper);
    } else if (parent.loop !== undefined) {
      site = parent.site;
      stack = parent.stack;
    }
    run.site = site;
    run.stack = stack;
    if (site === undefined || stack === undefined) return;
    // A timer made where its parent was made goes on its parent's chain; otherwise its parent
    // is what started a chain (the kick-off `setTimeout(() => poll(), ms)`, or the `poll()` call).
    run.startedBy = site === parent.site ? (parent.startedBy ?? parent) : parent;
    if (again !== undefined ? !fromItself : site !== parent.site) return;
    let loop = parent.loop ?? this.#loops.get(site);
    if (loop === undefined) {
      if (this.#loops.size >= this.#maxLoops) return;
      const ambient = current();
      const node = ambient === undefined ? null : nodeOf(ambient);
      loop = {
        kind: "setTimeout",
        stack: parent.stack ?? stack,
        start: (parent.startedBy?.start ?? parent.start)?.frames,
        context: node === null ? undefined : this.#tracker.recordFor(node),
        contextName: ambient?.name ?? node?.name ?? undefined,
        firstAt: t,
        lastAt: t,
        rearms: 1,
        delayMs: typeof delay === "number" ? delay : 0,
        last: new WeakRef(timer),
      };
      this.#loops.set(site, loop);
    } else {
      loop.rearms++;
      loop.lastAt = t;
      loop.last = new WeakRef(timer);
    }
    run.loop = loop;
  }

  /**
   * `wrapper` is left out of captured stacks, so they start at whoever called the timer. A sampled
   * `setTimeout`'s stack is kept on its `run`, as where a loop it starts began.
   */
  #onCreated(
    kind: TimerKind,
    timer: object,
    delay: unknown,
    wrapper: TimerFunction,
    run: TimerRun | undefined,
  ): void {
    if (this.#installed[kind] === undefined) return; // uninstalled, but someone wrapped us
    const ambient = current();
    if (ambient !== undefined) followAsyncCallbacks = true; // the hooks are on already
    const state = ambient === undefined ? undefined : contextState(ambient);
    if (state !== undefined && state !== "live") this.#onLate(kind, ambient!, wrapper);
    // Intervals are few and live long: every one is recorded, for the live-timer view.
    const n = this.#calls++;
    if (kind !== "setInterval" && n % this.#sampleEvery !== 0 && !this.#everyTimer.held) return;
    const node = ambient === undefined ? null : nodeOf(ambient);
    if (this.#sampled.size >= this.#pruneAt) this.#prune();
    if (this.#sampled.size >= this.#maxTimers) {
      this.dropped++;
      return;
    }
    const id = this.#tracker.newId();
    const stack = StackRef.capture(wrapper);
    const record: TimerRecord = {
      prev: undefined,
      next: undefined,
      id,
      kind,
      timer: new WeakRef(timer),
      context: node === null ? undefined : this.#tracker.recordFor(node),
      contextName: ambient?.name ?? node?.name ?? undefined,
      createdAt: now(),
      delayMs: typeof delay === "number" ? delay : 0,
      stack,
    };
    this.#sampled.add(record);
    (timer as { [SAMPLED]?: TimerRecord })[SAMPLED] = record;
    if (run !== undefined) {
      run.start = stack;
      run.record = record;
    }
  }

  // Most timers fire or are cleared soon after they are made: forget them as the list grows,
  // walking it again only once it has doubled (amortized O(1) a timer), and at most once a
  // second when it is full of armed ones.
  #prune(): void {
    const t = now();
    if (this.#sampled.size >= this.#maxTimers && t - this.#lastPrune < 1_000) return;
    this.#lastPrune = t;
    const armed = this.armed().length;
    this.#pruneAt = Math.max(MIN_PRUNE_AT, 2 * armed);
  }

  #onLate(kind: TimerKind, ambient: Context, wrapper: TimerFunction): void {
    const t = now();
    if (t - this.#lateWindowStart >= 1_000) {
      this.#lateWindowStart = t;
      this.#lateCaptures = 0;
    }
    if (this.#lateCaptures >= LATE_CAPTURES_PER_SECOND) {
      this.late.total++;
      return;
    }
    this.#lateCaptures++;
    const context = this.#tracker.recordFor(nodeOf(ambient) ?? ambient);
    this.late.push({
      kind,
      context,
      contextName: ambient.name ?? context.name,
      at: t,
      stack: StackRef.capture(wrapper),
    });
  }
}
