import { eq, sql } from "drizzle-orm";
import type * as v from "valibot";
import type { Config } from "../../src/config";
import type { Database } from "../../src/db/client";
import { clusters, nodes } from "../../src/db/schema";
import type { ConfigFrame } from "../../src/protocol/frames";

type ConfigOut = Omit<v.InferOutput<typeof ConfigFrame>, "v">;

/** What an agent's `config` depends on besides its own announcement: its cluster and that cluster's settings. */
export interface ClusterSettings {
  clusterName: string;
  /** The cluster's own detail interval; null = the server's default. */
  metricsDetailIntervalSeconds: number | null;
}

/**
 * The `config` frame for a node: the heartbeat interval it announced, and (for agents that stream
 * metrics) the detail interval of its cluster, else the server's default.
 */
export function configFrame(
  config: Pick<Config, "metricsDetailIntervalSeconds">,
  nodeId: string,
  cluster: ClusterSettings,
  heartbeatIntervalSeconds: number,
  metricsStream: boolean,
): ConfigOut {
  return {
    type: "config",
    node_id: nodeId,
    cluster_name: cluster.clusterName,
    heartbeat_interval_seconds: heartbeatIntervalSeconds,
    ...(metricsStream
      ? {
          metrics_detail_interval_seconds:
            cluster.metricsDetailIntervalSeconds ?? config.metricsDetailIntervalSeconds,
        }
      : {}),
  };
}

/** The settings of the cluster named `clusterName` (defaults when it is gone). */
export async function clusterSettingsByName(db: Database, clusterName: string): Promise<ClusterSettings> {
  const [row] = await db
    .select({ seconds: clusters.metricsDetailIntervalSeconds })
    .from(clusters)
    .where(eq(clusters.name, clusterName))
    .limit(1);
  return { clusterName, metricsDetailIntervalSeconds: row?.seconds ?? null };
}

/** The node's cluster and its settings; null when the node is gone. */
export async function nodeClusterSettings(db: Database, nodeId: string): Promise<ClusterSettings | null> {
  const [row] = await db.all<{ clusterName: string; seconds: number | null }>(
    sql`SELECT c.name AS clusterName, c.metrics_detail_interval_seconds AS seconds
          FROM ${nodes} n JOIN ${clusters} c ON c.id = n.cluster_id WHERE n.id = ${nodeId}`,
  );
  return row ? { clusterName: row.clusterName, metricsDetailIntervalSeconds: row.seconds } : null;
}
