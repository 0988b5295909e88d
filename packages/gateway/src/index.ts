/**
 * @timebound/gateway: a config-driven HTTP gateway where every route has one deadline that
 * reaches the upstream, with timebound's resilience policies and fan-out per route.
 *
 * @example
 * ```ts
 * import { startGateway } from "@timebound/gateway";
 * const running = await startGateway({ configFile: "gateway.yaml", signals: true });
 * console.log(`gateway on ${running.url}, admin on ${running.adminUrl}`);
 * ```
 * @module @timebound/gateway
 */
export { ConfigError, type ConfigProblem } from "./config/errors.js";
export { loadConfigFile, parseConfig } from "./config/load.js";
export type * from "./config/types.js";
export {
  createGateway,
  type EndReason,
  type Gateway,
  type GatewayOptions,
  type RequestRecord,
} from "./gateway.js";
export { startGateway, type RunningGateway, type StartOptions } from "./server.js";
export { GATEWAY_USAGE, main } from "./cli.js";
