import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { clusterKey } from "../../../src/io/redis/node-redis/cluster-key.js";
import { keySlot, prefixKey } from "../../../src/io/redis/slot.js";

describe("redis: cluster slots and the key a command is routed by", () => {
  it("computes slots as Redis does (CLUSTER KEYSLOT), hash tags included", () => {
    // Values from CLUSTER KEYSLOT on Redis 7.
    assert.equal(keySlot("foo"), 12182);
    assert.equal(keySlot("123456789"), 12739);
    assert.equal(keySlot("{user1000}.following"), 3443);
    assert.equal(keySlot("{user1000}.following"), keySlot("user1000"));
    assert.equal(keySlot("a{}b"), 13694, "an empty tag is no tag");
    assert.equal(keySlot("{}{x}"), 3257, "only the first { counts");
    assert.equal(keySlot(Buffer.from("héllo")), 11061);
    assert.equal(keySlot(prefixKey("app:", "q")), keySlot("app:q"));
  });

  it("routes by the first key wherever the command puts it", () => {
    assert.equal(clusterKey("get", ["k"]), "k");
    assert.equal(clusterKey("EVAL", ["return 1", 2, "a", "b"]), "a");
    assert.equal(clusterKey("fcall", ["f", 0]), undefined);
    assert.equal(clusterKey("lmpop", [2, "a", "b", "LEFT"]), "a");
    assert.equal(clusterKey("xread", ["COUNT", 1, "STREAMS", "s", "0"]), "s");
    assert.equal(clusterKey("blmpop", [0, 1, "q", "LEFT"]), "q");
    assert.equal(clusterKey("bitop", ["AND", "dest", "a"]), "dest");
    assert.equal(clusterKey("ping", []), undefined);
    assert.equal(clusterKey("CLIENT", ["LIST"]), undefined);
  });
});
