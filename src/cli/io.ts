/** @internal The part of a writable stream the CLI uses, so tests can pass a string collector. */
export interface OutputStream {
  write(chunk: string): unknown;
  /** True when it is a terminal: progress is then redrawn in place. */
  readonly isTTY?: boolean;
  /** Terminal width, when it is one. */
  readonly columns?: number;
}

/** @internal Where a command writes, and what it knows about the installed package. */
export interface CliIO {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  /** The package version, read from package.json by the launcher. */
  readonly version: string;
}

/** @internal The process's own streams. */
export function processIO(version: string): CliIO {
  return { stdout: process.stdout, stderr: process.stderr, version };
}
