import type { TimelineEntry } from "./model.js";
import type { ContextRecord, OperationRecord } from "./records.js";
import { type StackRef, formatFrame } from "./stacks.js";

const TYPES = ["context", "operation", "deadline"] as const;
const ENDED_BY = [undefined, "cancel", "deadline", "ancestor"] as const;

/**
 * @internal The run's recent history for the timeline, in flat arrays of numbers and shared
 * strings: a request's contexts end by the thousand, and an object kept for each until the ring
 * wraps would live long enough to be promoted, making every collection dearer. A creation stack
 * is kept only for what may be reported (a context not ended by its own cancel, work that
 * outlived its context); the rest keep their spans without a site.
 */
export class TimelineLog {
  /** Every entry ever offered, kept or not. */
  total = 0;
  #next = 0;
  readonly #type: number[] = [];
  readonly #id: number[] = [];
  readonly #start: number[] = [];
  /** NaN for marks. */
  readonly #end: number[] = [];
  /** NaN when none. */
  readonly #parent: number[] = [];
  /** Index in ENDED_BY; for a deadline mark, unused. */
  readonly #endedBy: number[] = [];
  /** How late a deadline fired, ms; NaN otherwise. */
  readonly #late: number[] = [];
  readonly #name: (string | undefined)[] = [];
  readonly #kind: string[] = [];
  readonly #stack: (StackRef | undefined)[] = [];

  constructor(readonly capacity: number) {}

  /** How many entries are kept. */
  get size(): number {
    return this.#type.length;
  }

  #slot(): number {
    this.total++;
    if (this.#type.length < this.capacity) return this.#type.length;
    const slot = this.#next;
    this.#next = (this.#next + 1) % this.capacity;
    return slot;
  }

  context(r: ContextRecord): void {
    const i = this.#slot();
    this.#type[i] = 0;
    this.#id[i] = r.id;
    this.#start[i] = r.createdAt;
    this.#end[i] = r.endedAt ?? Number.NaN;
    this.#parent[i] = r.parentId ?? Number.NaN;
    this.#endedBy[i] = Math.max(0, ENDED_BY.indexOf(r.endedBy));
    this.#late[i] = Number.NaN;
    this.#name[i] = r.name;
    this.#kind[i] = r.kind;
    this.#stack[i] = r.endedBy === "cancel" ? undefined : r.stack;
  }

  operation(r: OperationRecord): void {
    const i = this.#slot();
    const contextEnd = r.context?.endedAt;
    this.#type[i] = 1;
    this.#id[i] = r.id;
    this.#start[i] = r.startedAt;
    this.#end[i] = r.endedAt ?? Number.NaN;
    this.#parent[i] = r.context?.id ?? Number.NaN;
    this.#endedBy[i] = 0;
    this.#late[i] = Number.NaN;
    this.#name[i] = undefined;
    this.#kind[i] = r.kind;
    const outlived = contextEnd !== undefined && (r.endedAt ?? Infinity) > contextEnd;
    this.#stack[i] = outlived ? r.stack : undefined;
  }

  deadline(at: number, lateByMs: number, context: ContextRecord | undefined): void {
    const i = this.#slot();
    this.#type[i] = 2;
    this.#id[i] = context?.id ?? 0;
    this.#start[i] = at;
    this.#end[i] = Number.NaN;
    this.#parent[i] = Number.NaN;
    this.#endedBy[i] = 0;
    this.#late[i] = lateByMs;
    this.#name[i] = context?.name ?? context?.kind;
    this.#kind[i] = "deadline";
    this.#stack[i] = undefined;
  }

  /** The `max` most recent entries, oldest first. */
  entries(max: number): TimelineEntry[] {
    const size = this.size;
    const count = Math.min(size, Math.max(0, max));
    const oldest = size < this.capacity ? 0 : this.#next;
    const out: TimelineEntry[] = [];
    for (let k = size - count; k < size; k++) out.push(this.#entry((oldest + k) % size));
    return out;
  }

  #entry(i: number): TimelineEntry {
    const type = TYPES[this.#type[i] ?? 0] ?? "context";
    const end = this.#end[i] ?? Number.NaN;
    const parent = this.#parent[i] ?? Number.NaN;
    const top = this.#stack[i]?.frames[0];
    if (type === "deadline") {
      return {
        type,
        id: this.#id[i] ?? 0,
        name: this.#name[i] ?? "deadline",
        kind: "deadline",
        start: this.#start[i] ?? 0,
        end: undefined,
        lateByMs: Math.round((this.#late[i] ?? 0) * 10) / 10,
      };
    }
    const kind = this.#kind[i] ?? "";
    return {
      type,
      id: this.#id[i] ?? 0,
      name: type === "context" ? (this.#name[i] ?? kind) : kind,
      kind,
      start: this.#start[i] ?? 0,
      end: Number.isNaN(end) ? undefined : end,
      parentId: Number.isNaN(parent) ? undefined : parent,
      ...(type === "context" ? { endedBy: ENDED_BY[this.#endedBy[i] ?? 0] } : {}),
      site: top === undefined ? undefined : formatFrame(top),
    };
  }
}
