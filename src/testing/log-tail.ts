/**
 * The default of the `logTailBytes` option: how much of a server's latest output is kept (16 KiB,
 * about 150 lines of PostgreSQL's log).
 */
export const DEFAULT_LOG_TAIL_BYTES = 16 * 1024;

/**
 * The last `limit` bytes of a stream of output. A server may run for a whole test run and log
 * every canceled statement: only the end is worth keeping, for the error that explains a failure.
 *
 * @internal
 */
export class LogTail {
  readonly #chunks: Buffer[] = [];
  readonly #limit: number;
  #bytes = 0;
  #dropped = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  append(chunk: Buffer): void {
    if (this.#limit === 0) {
      this.#dropped += chunk.length;
      return;
    }
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
    while (this.#bytes > this.#limit) {
      const first = this.#chunks[0] as Buffer;
      const excess = this.#bytes - this.#limit;
      if (first.length <= excess) {
        this.#chunks.shift();
        this.#bytes -= first.length;
        this.#dropped += first.length;
      } else {
        this.#chunks[0] = Buffer.from(first.subarray(excess)); // a copy: the rest can be freed
        this.#bytes -= excess;
        this.#dropped += excess;
      }
    }
  }

  /**
   * What is kept, as text. When older output was dropped, it starts with a line saying how much,
   * and the first partial line is cut so that the text starts at a line's beginning.
   */
  text(): string {
    let kept = Buffer.concat(this.#chunks, this.#bytes);
    if (this.#dropped === 0) return kept.toString("utf8");
    let dropped = this.#dropped;
    // Cut at a byte: a newline is never part of a multi-byte UTF-8 character.
    const firstLineEnd = kept.indexOf(0x0a);
    if (firstLineEnd !== -1 && firstLineEnd < kept.length - 1) {
      dropped += firstLineEnd + 1;
      kept = kept.subarray(firstLineEnd + 1);
    }
    return `[${dropped} earlier bytes not kept]\n${kept.toString("utf8")}`;
  }
}
