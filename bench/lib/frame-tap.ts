// A TCP relay in front of the stack that reads the WebSocket frames agents send (client → server)
// without changing a byte: the agent is given an enrollment key naming the relay, so every frame it
// really sends passes here. Records each text message's payload size by its JSON `type`. Only
// connections whose request is `/agent/v1/connect` are parsed; the rest (enrolment) just flow.
import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";

export interface FrameTap {
  port: number;
  /** Payload bytes of every message seen, by frame type. */
  sizes: Map<string, number[]>;
  close(): Promise<void>;
}

/** Parses client frames out of a byte stream: header, optional extended length, mask, payload. */
function frameReader(onMessage: (payload: Buffer) => void) {
  let buf = Buffer.alloc(0);
  let upgraded = false;
  let partial: Buffer[] = [];
  return (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    if (!upgraded) {
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      upgraded = true;
      buf = buf.subarray(end + 4);
    }
    for (;;) {
      if (buf.length < 2) return;
      const fin = (buf[0] & 0x80) !== 0;
      const opcode = buf[0] & 0x0f;
      const masked = (buf[1] & 0x80) !== 0;
      let len = buf[1] & 0x7f;
      let at = 2;
      if (len === 126) {
        if (buf.length < 4) return;
        len = buf.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        if (buf.length < 10) return;
        len = Number(buf.readBigUInt64BE(2));
        at = 10;
      }
      const maskAt = at;
      if (masked) at += 4;
      if (buf.length < at + len) return;
      const payload = Buffer.from(buf.subarray(at, at + len));
      if (masked) for (let i = 0; i < len; i++) payload[i] ^= buf[maskAt + (i % 4)];
      buf = buf.subarray(at + len);
      if (opcode === 0x1 || opcode === 0x0) {
        partial.push(payload);
        if (fin) {
          onMessage(Buffer.concat(partial));
          partial = [];
        }
      }
    }
  };
}

export async function startFrameTap(targetPort: number): Promise<FrameTap> {
  const sizes = new Map<string, number[]>();
  const sockets = new Set<Socket>();
  const record = (payload: Buffer) => {
    let type = "?";
    try {
      type = String(JSON.parse(payload.toString("utf8")).type ?? "?");
    } catch {}
    const list = sizes.get(type) ?? [];
    list.push(payload.length);
    sizes.set(type, list);
  };
  const server: Server = createServer((client) => {
    const upstream = tcpConnect(targetPort, "127.0.0.1");
    sockets.add(client).add(upstream);
    let reader: ((chunk: Buffer) => void) | null | undefined;
    client.on("data", (chunk: Buffer) => {
      if (reader === undefined) {
        const head = chunk.subarray(0, 200).toString("latin1");
        reader = /^GET \/agent\/v1\/connect/.test(head) ? frameReader(record) : null;
      }
      reader?.(chunk);
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => client.write(chunk));
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("close", end).on("error", end);
    upstream.on("close", end).on("error", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("frame tap: no port");
  return {
    port: address.port,
    sizes,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
