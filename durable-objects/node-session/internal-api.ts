import { eq } from "drizzle-orm";
import { Hono } from "hono";
import type { Connection } from "partyserver";
import type { Database } from "../../src/db/client";
import { commandExecutions } from "../../src/db/schema";
import { CLOSE_CODES, encodeServerFrame, type ServerFrame } from "../../src/protocol/frames";
import type { LiveOutput } from "./live-output";
import { readPresence } from "./presence";
import { METRICS_HISTORY_LIMIT, type SessionStore } from "./store";

/** What the internal API needs from its Durable Object. */
export interface SessionHost {
  nodeId: string;
  store: SessionStore;
  liveConnection(): Connection | undefined;
  forget(): Promise<void>;
  /**
   * Sends the node's pending executions to a connected agent (serialised with frame handling).
   * `resend`: rows already `sent` go out again too.
   */
  deliver(resend: boolean): Promise<void>;
  liveOutput: LiveOutput;
  db: Database;
}

type Outgoing = Parameters<typeof encodeServerFrame>[0];

/**
 * The Worker → NodeSession API (plain HTTP on the DO stub; never exposed publicly):
 * metrics, connection state, pushing a frame, and deletion.
 */
export function internalApi(host: SessionHost) {
  const app = new Hono();

  app.get("/internal/metrics", (c) => {
    const limit = Math.min(Number(c.req.query("history") ?? "0") || 0, METRICS_HISTORY_LIMIT);
    const latest = host.store.latestSample();
    return c.json({ latest, history: limit > 0 ? host.store.samples(limit) : [] });
  });

  app.get("/internal/state", (c) =>
    c.json({
      connected: host.liveConnection() !== undefined,
      presence: readPresence(host.store),
      samples: host.store.sampleCount(),
      connection_log: host.store.connectionLog(),
    }),
  );

  app.post("/internal/send", async (c) => {
    const frame = (await c.req.json()) as Outgoing;
    const conn = host.liveConnection();
    if (!conn) return c.json({ delivered: false }, 409);
    conn.send(encodeServerFrame(frame as ServerFrame));
    return c.json({ delivered: true });
  });

  // The node's cluster changed: tell a connected agent, keeping the heartbeat interval it announced.
  app.post("/internal/config", async (c) => {
    const { cluster_name } = (await c.req.json()) as { cluster_name: string };
    const conn = host.liveConnection();
    if (!conn) return c.json({ delivered: false }, 409);
    const presence = readPresence(host.store);
    conn.send(
      encodeServerFrame({
        type: "config",
        node_id: host.nodeId,
        cluster_name,
        heartbeat_interval_seconds: presence.heartbeatIntervalSeconds,
      }),
    );
    return c.json({ delivered: true });
  });

  app.post("/internal/deliver", async (c) => {
    const connected = host.liveConnection() !== undefined;
    if (connected) await host.deliver(c.req.query("resend") === "1");
    return c.json({ connected });
  });

  // Server-Sent Events of one execution's live output; ends with its final state.
  app.get("/internal/stream/:executionId", (c) => {
    const id = c.req.param("executionId");
    return host.liveOutput.subscribe(id, async () => {
      const [row] = await host.db
        .select({ status: commandExecutions.status, exit_code: commandExecutions.exitCode })
        .from(commandExecutions)
        .where(eq(commandExecutions.id, id));
      return !row || ["completed", "cancelled", "expired"].includes(row.status)
        ? (row ?? { status: "deleted", exit_code: null })
        : null;
    });
  });

  app.post("/internal/delete", async (c) => {
    host.liveConnection()?.close(CLOSE_CODES.nodeDeleted, "node deleted");
    await host.forget();
    return c.json({ deleted: true });
  });

  app.notFound((c) => c.json({ error: "unknown internal route" }, 404));
  return app;
}
