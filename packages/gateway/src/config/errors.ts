/** One thing wrong in a configuration: where (`routes[0].timeoutMs`, line 12) and what. */
export interface ConfigProblem {
  /** Path of the value in the document, e.g. `routes[2].retry.maxAttempts` (empty for the root). */
  readonly path: string;
  /** Line in the file (1-based), when known. */
  readonly line: number | undefined;
  /** What is wrong: what was expected, and the value found. */
  readonly message: string;
}

/**
 * A configuration that cannot be used. Its message lists every problem, each with the path of
 * the value, its line in the file and what was expected; `problems` has them one by one.
 */
export class ConfigError extends Error {
  declare readonly code: "TIMEBOUND_GATEWAY_ERR_CONFIG";
  readonly problems: readonly ConfigProblem[];
  readonly source: string;

  constructor(source: string, problems: readonly ConfigProblem[]) {
    const lines = problems.map(
      (p) =>
        `  ${p.path === "" ? "(root)" : p.path}${p.line === undefined ? "" : ` (line ${p.line})`}: ${p.message}`,
    );
    super(`${source}: invalid gateway configuration\n${lines.join("\n")}`);
    this.problems = problems;
    this.source = source;
  }
}
Object.defineProperty(ConfigError.prototype, "name", { value: "ConfigError", configurable: true });
Object.defineProperty(ConfigError.prototype, "code", {
  value: "TIMEBOUND_GATEWAY_ERR_CONFIG",
  configurable: true,
});
