// `timebound-gateway --config gateway.yaml [--check]`: runs the gateway, or only checks its
// configuration (exit 0 when valid; 2 with every problem listed when not).
import { parseArgs } from "node:util";
import { loadConfigFile } from "./config/load.js";
import { ConfigError } from "./config/errors.js";
import { createLogger } from "./observe/access-log.js";
import { startGateway } from "./server.js";

export const GATEWAY_USAGE = `usage: timebound-gateway --config <file.yaml> [--check]

  --config, -c <file>  the gateway's configuration (YAML; schema: @timebound/gateway/schema.json)
  --check              check the configuration and exit: 0 valid, 2 invalid (every problem listed)
  --quiet              no access log on stdout
  --help, -h           this text

Signals: SIGHUP reloads the configuration (also reloaded when the file changes); SIGTERM or
SIGINT stop taking requests, let in-flight ones finish within shutdown.drainMs, then cancel the
rest. Exit code: 0 stopped with every request finished, 3 some were canceled at the drain
deadline, 2 bad usage or configuration.
`;

/** Runs the CLI with `argv` (without node and the script); resolves to an exit code or undefined (serving). */
export async function main(argv: readonly string[]): Promise<number | undefined> {
  let values: { config?: string; check?: boolean; quiet?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        config: { type: "string", short: "c" },
        check: { type: "boolean" },
        quiet: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    process.stderr.write(`timebound-gateway: ${(err as Error).message}\n\n${GATEWAY_USAGE}`);
    return 2;
  }
  if (values.help === true) {
    process.stdout.write(GATEWAY_USAGE);
    return 0;
  }
  if (values.config === undefined) {
    process.stderr.write(`timebound-gateway: --config <file> is required\n\n${GATEWAY_USAGE}`);
    return 2;
  }
  try {
    if (values.check === true) {
      const config = await loadConfigFile(values.config);
      process.stdout.write(
        `${values.config}: valid (${config.routes.length} routes, ${config.upstreams.size} upstreams)\n`,
      );
      return 0;
    }
    const running = await startGateway({
      configFile: values.config,
      signals: true,
      ...(values.quiet === true ? {} : { log: createLogger() }),
    });
    process.stderr.write(
      `timebound-gateway: listening on ${running.url}${running.adminUrl === undefined ? "" : `, admin on ${running.adminUrl}`}\n`,
    );
    return undefined;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
