import type { ChildProcess } from "node:child_process";
import { OutputLimitError, type PartialOutput } from "./errors.js";

type StreamName = "stdout" | "stderr";

/**
 * @internal Collects a child's stdout and stderr as bytes, up to `maxBuffer` each, and decodes them
 * when asked (decoding at the end never splits a multi-byte character across chunks).
 */
export class Output {
  readonly #chunks: Record<StreamName, Buffer[]> = { stdout: [], stderr: [] };
  readonly #bytes: Record<StreamName, number> = { stdout: 0, stderr: 0 };
  /** Rejects with {@link OutputLimitError} if a stream goes past the limit; never resolves. */
  readonly overflow: Promise<never>;
  #over = false;
  readonly #maxBuffer: number;
  readonly #encoding: BufferEncoding;

  constructor(
    child: ChildProcess,
    maxBuffer: number,
    encoding: BufferEncoding,
    /** Called once, when a stream goes past the limit: stop the child. */
    onOverflow: () => void,
  ) {
    this.#maxBuffer = maxBuffer;
    this.#encoding = encoding;
    this.overflow = new Promise<never>((_, reject) => {
      const collect = (name: StreamName) => (chunk: Buffer) => {
        if (this.#over) return;
        const room = this.#maxBuffer - this.#bytes[name];
        this.#chunks[name].push(chunk.length > room ? chunk.subarray(0, room) : chunk);
        this.#bytes[name] += Math.min(chunk.length, room);
        if (chunk.length <= room) return;
        this.#over = true;
        onOverflow();
        const { stdout, stderr } = this.read();
        reject(new OutputLimitError(name, this.#maxBuffer, stdout, stderr));
      };
      child.stdout?.on("data", collect("stdout"));
      child.stderr?.on("data", collect("stderr"));
    });
    this.overflow.catch(() => {}); // whoever races it sees the rejection; nobody else must
  }

  /** Everything collected so far, decoded. */
  read(): PartialOutput {
    return { stdout: this.#text("stdout"), stderr: this.#text("stderr") };
  }

  #text(name: StreamName): string {
    return Buffer.concat(this.#chunks[name]).toString(this.#encoding);
  }
}
