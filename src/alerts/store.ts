import { eq } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Database } from "../db/client";
import { alerts, clusters, nodes } from "../db/schema";
import { recordEvent } from "../events/outbox";
import type { AlertTransition } from "./evaluate";

/**
 * Writes a node's alert transitions: each one's alert row (insert on fired, update otherwise) and
 * its `edge.alert.*` event, all in one batch, so an alert never exists without its event.
 */
export async function writeTransitions(
  db: Database,
  nodeId: string,
  transitions: readonly AlertTransition[],
): Promise<void> {
  const statements: BatchItem<"sqlite">[] = [];
  for (const t of transitions) {
    if (t.kind === "fired") {
      statements.push(
        db.insert(alerts).values({
          id: t.alertId,
          ruleId: t.ruleId,
          nodeId,
          metric: t.metric,
          level: t.level,
          status: "firing",
          value: t.value,
          peakValue: t.peak,
          threshold: t.threshold,
          startedAt: t.startedAt,
          updatedAt: t.at,
        }),
      );
    } else {
      statements.push(
        db
          .update(alerts)
          .set({
            level: t.level,
            value: t.value,
            peakValue: t.peak,
            threshold: t.threshold,
            updatedAt: t.at,
            ...(t.kind === "resolved" ? { status: "resolved", resolvedAt: t.at } : {}),
          })
          .where(eq(alerts.id, t.alertId)),
      );
    }
    statements.push(
      recordEvent(
        db,
        `edge.alert.${t.kind}`,
        {
          alert_id: t.alertId,
          rule_id: t.ruleId,
          node_id: nodeId,
          metric: t.metric,
          level: t.level,
          value: t.value,
          threshold: t.threshold,
        },
        t.at,
      ),
    );
  }
  const [first, ...rest] = statements;
  if (first) await db.batch([first, ...rest]);
}

/** The node's cluster name (null once the node is gone), for matching rule targetings. */
export async function nodeClusterName(db: Database, nodeId: string): Promise<string | null> {
  const [row] = await db
    .select({ name: clusters.name })
    .from(nodes)
    .innerJoin(clusters, eq(clusters.id, nodes.clusterId))
    .where(eq(nodes.id, nodeId))
    .limit(1);
  return row?.name ?? null;
}
