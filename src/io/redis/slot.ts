// Which of Redis Cluster's 16384 slots a key belongs to: CRC16 (XMODEM) of the key, or of its
// hash tag (the part between the first "{" and the next "}", when not empty), modulo 16384.
import type { RedisArgument } from "./driver.js";

const TABLE = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let crc = i << 8;
  for (let bit = 0; bit < 8; bit++)
    crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  TABLE[i] = crc;
}

const OPEN = 0x7b; // {
const CLOSE = 0x7d; // }

/**
 * The cluster slot of `key` (as the server sees it: with any key prefix already applied).
 *
 * @example
 * ```ts
 * keySlot("{user:42}:cart") === keySlot("{user:42}:orders"); // true: same hash tag
 * ```
 *
 * @internal
 */
export function keySlot(key: RedisArgument): number {
  const bytes = Buffer.isBuffer(key) ? key : Buffer.from(String(key));
  let start = 0;
  let end = bytes.length;
  const open = bytes.indexOf(OPEN);
  if (open !== -1) {
    const close = bytes.indexOf(CLOSE, open + 1);
    if (close > open + 1) {
      start = open + 1;
      end = close;
    }
  }
  let crc = 0;
  for (let i = start; i < end; i++)
    crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ bytes[i]!) & 0xff]!;
  return crc % 16_384;
}

/**
 * `key` with `prefix` before it, Buffers kept as Buffers.
 *
 * @internal
 */
export function prefixKey(prefix: string, key: RedisArgument): RedisArgument {
  if (prefix === "") return key;
  return Buffer.isBuffer(key) ? Buffer.concat([Buffer.from(prefix), key]) : prefix + String(key);
}
