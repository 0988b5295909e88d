import { connect } from "node:net";

/**
 * Sends one command to a Redis server on a connection of its own and resolves with its reply (a
 * status, an integer or a bulk string, as text); an error reply rejects with an error whose
 * message starts with `what`. Enough to set up a cluster or read `CLIENT LIST` without a client
 * library (ioredis and node-redis are optional peer dependencies).
 *
 * @internal
 */
export function sendCommand(
  host: string,
  port: number,
  args: readonly string[],
  what: string,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, host);
    let data = Buffer.alloc(0);
    const done = (err: Error | undefined, reply?: string): void => {
      socket.destroy();
      if (err !== undefined) reject(err);
      else resolve(reply ?? "");
    };
    socket.on("error", (err) => done(err));
    socket.on("data", (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      const reply = parseReply(data);
      if (reply === undefined) return;
      if (reply.error) done(new Error(`${what}: ${args.join(" ")}: ${reply.text}`));
      else done(undefined, reply.text);
    });
    socket.write(
      `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`,
    );
  });
}

/** One RESP2 reply of a simple type, or undefined while incomplete. */
function parseReply(data: Buffer): { text: string; error: boolean } | undefined {
  const eol = data.indexOf("\r\n");
  if (eol === -1) return undefined;
  const line = data.toString("utf8", 1, eol);
  const type = String.fromCharCode(data[0]!);
  if (type !== "$") return { text: line, error: type === "-" };
  const length = Number(line);
  if (length < 0) return { text: "", error: false };
  if (data.length < eol + 2 + length + 2) return undefined;
  return { text: data.toString("utf8", eol + 2, eol + 2 + length), error: false };
}
