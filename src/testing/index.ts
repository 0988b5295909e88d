/**
 * `timebound/testing`: throwaway PostgreSQL and Redis servers for tests, started from the
 * system's binaries on loopback ports, that leave nothing behind however the process ends.
 *
 * @example
 * ```ts
 * import { startPostgres, startRedis } from "timebound/testing";
 *
 * await using pg = await startPostgres();
 * await using redis = await startRedis();
 * console.log(pg.url, redis.url);
 * ```
 *
 * @module timebound/testing
 */
export { freePort } from "./free-port.js";
export { DEFAULT_LOG_TAIL_BYTES } from "./log-tail.js";
export { DEFAULT_START_TIMEOUT_MS, type ServerOptions } from "./options.js";
export {
  findPostgresBin,
  startPostgres,
  type PostgresOptions,
  type PostgresServer,
} from "./postgres.js";
export { findRedisServer, startRedis, type RedisServer } from "./redis.js";
export { closeNow, listenLoopback } from "./loopback.js";
export {
  ServerStartError,
  startServerProcess,
  type ServerProcess,
  type ServerProcessOptions,
  type ServerStartFailure,
} from "./server-process.js";
export {
  FaultUpstreamError,
  startFaultUpstream,
  type FaultUpstream,
  type FaultUpstreamOptions,
} from "./fault-upstream.js";
export type {
  FaultConfig,
  FaultProfile,
  LatencyDistribution,
  OutageMode,
  OutageWindow,
} from "./fault-upstream-profile.js";
export type { FaultRouteStats, FaultUpstreamStats } from "./fault-upstream-stats.js";
export {
  startToxicProxy,
  type ToxicProxy,
  type ToxicProxyOptions,
  type ToxicProxyStats,
} from "./toxic-proxy.js";
export type { Toxic, ToxicBase, ToxicStream } from "./toxic-proxy-toxics.js";
export {
  startRedisCluster,
  type RedisCluster,
  type RedisClusterNode,
  type RedisClusterOptions,
} from "./redis-cluster.js";
export { isBlocked, redisClients, type RedisClientEntry } from "./redis-clients.js";
export {
  hasProcessTable,
  processGroupAlive,
  processesWithEnv,
  type ProcessEntry,
} from "./processes.js";
