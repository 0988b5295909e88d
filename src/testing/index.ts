export { freePort } from "./free-port.js";
export { findPostgresBin, startPostgres, type PostgresServer } from "./postgres.js";
export { findRedisServer, startRedis, type RedisServer } from "./redis.js";
export { closeNow, listenLoopback } from "./loopback.js";
export { startServerProcess, type ServerProcess } from "./server-process.js";
export { startRedisCluster, type RedisCluster, type RedisClusterNode } from "./redis-cluster.js";
