// The REST benchmark's data, written straight into libSQL through the dev server (@libsql/client
// batch inserts into the tables of src/db/schema.ts, bypassing the API): N nodes in 20 clusters
// (secrets copied from one node enrolled through the API, so every row decrypts) and M executions
// of M/100 commands, then ANALYZE.
import { randomUUID } from "node:crypto";
import { createClient, type InStatement } from "@libsql/client";
import { decodeKeyBlob } from "../../src/enrollment/key-blob";
import { apiClient, clusterWithKey } from "./api";
import type { BenchStack } from "./bench-stack";

const CLUSTERS = 20;

function ipOf(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

async function insertRows(
  client: ReturnType<typeof createClient>,
  table: string,
  columns: string[],
  rows: unknown[][],
  perStatement = 200,
) {
  const statements: InStatement[] = [];
  for (let i = 0; i < rows.length; i += perStatement) {
    const chunk = rows.slice(i, i + perStatement);
    const placeholders = chunk.map(() => `(${columns.map(() => "?").join(",")})`).join(",");
    statements.push({
      sql: `INSERT INTO ${table} (${columns.join(",")}) VALUES ${placeholders}`,
      args: chunk.flat() as any,
    });
  }
  for (let i = 0; i < statements.length; i += 25) await client.batch(statements.slice(i, i + 25), "write");
}

export async function seed(stack: BenchStack, nodeCount: number, executionCount: number) {
  const api = apiClient(() => stack.url);
  const key = await clusterWithKey(api, "rest", "100.96.0.0/16");
  const blob = decodeKeyBlob(key)!;
  // One real node through the API: its ciphertexts (ENCRYPTION_KEY of this stack) are reused.
  const res = await fetch(`${stack.url}/agent/v1/enroll`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      key: blob.key,
      node_id: randomUUID(),
      id_type: "random",
      hostname: "bench-template",
      platform: "linux",
      version: "0.1.0",
    }),
  });
  if (res.status !== 201) throw new Error(`enrol template node: HTTP ${res.status} ${await res.text()}`);
  const client = createClient({ url: stack.libsqlUrl });
  try {
    const template = (await client.execute("SELECT * FROM nodes LIMIT 1")).rows[0] as Record<string, any>;
    const nodeColumns = Object.keys(template);
    const now = Date.now();
    // CLUSTERS clusters: the API-created one ("rest", 100.96.0.0/16) and copies of it (10.k.0.0/16).
    const cluster = (await client.execute("SELECT * FROM clusters LIMIT 1")).rows[0] as Record<string, any>;
    const clusterColumns = Object.keys(cluster);
    const clusters = [{ id: cluster.id as string, start: Number(cluster.ipv4_start) }];
    const clusterRows: unknown[][] = [];
    for (let k = 1; k < CLUSTERS; k++) {
      const start = (10 << 24) + (k << 16);
      const row: Record<string, unknown> = {
        ...cluster,
        id: randomUUID(),
        name: `rest-${k}`,
        ipv4_range: `10.${k}.0.0/16`,
        ipv4_start: start,
        ipv4_end: start + 65535,
        network_name: `rest-${k}`,
        vpn_domain: `cluster-rest-${k}.nm.internal`,
      };
      clusters.push({ id: row.id as string, start });
      clusterRows.push(clusterColumns.map((c) => row[c] ?? null));
    }
    await insertRows(client, "clusters", clusterColumns, clusterRows);
    const statuses = ["healthy", "healthy", "healthy", "unhealthy", "unreachable"];
    const versions = ["0.1.0", "0.1.0", "0.0.9", "1.0.0"];
    const nodeIds: string[] = [template.id];
    const nodeRows: unknown[][] = [];
    for (let i = 1; i < nodeCount; i++) {
      const id = randomUUID();
      nodeIds.push(id);
      const at = now - (nodeCount - i) * 60_000;
      const row: Record<string, unknown> = {
        ...template,
        id,
        cluster_id: clusters[i % CLUSTERS].id,
        node_name: `node-${id.slice(0, 8)}`,
        status: statuses[i % statuses.length],
        version: versions[i % versions.length],
        hostname: `host-${i}`,
        ipv4_address: ipOf(clusters[i % CLUSTERS].start + 2 + Math.floor(i / CLUSTERS)),
        api_token_hash: randomUUID().replaceAll("-", "") + randomUUID().replaceAll("-", ""),
        last_seen_at: now - (i % 3600) * 1000,
        inserted_at: at,
        updated_at: at,
      };
      nodeRows.push(nodeColumns.map((c) => row[c] ?? null));
    }
    await insertRows(client, "nodes", nodeColumns, nodeRows, 100);

    const commandCount = Math.max(1, Math.round(executionCount / 100));
    const perCommand = Math.round(executionCount / commandCount);
    const commandRows: unknown[][] = [];
    const execRows: unknown[][] = [];
    const commandIds: string[] = [];
    for (let c = 0; c < commandCount; c++) {
      const id = randomUUID();
      commandIds.push(id);
      const at = now - (commandCount - c) * 5 * 60_000;
      const targets = Array.from(
        { length: perCommand },
        (_, k) => nodeIds[(c * 37 + k * 101) % nodeIds.length],
      );
      const unique = [...new Set(targets)];
      commandRows.push([
        id,
        "uptime",
        JSON.stringify({ type: "nodes", node_ids: unique }),
        30_000,
        null,
        at,
        at,
      ]);
      for (const [k, nodeId] of unique.entries()) {
        const r = (c * 131 + k * 7) % 100;
        const status = r < 90 ? "completed" : r < 95 ? "expired" : "cancelled";
        const done = at + 500 + k;
        execRows.push([
          randomUUID(),
          id,
          nodeId,
          null,
          0,
          "uptime",
          30_000,
          null,
          status,
          status === "completed" ? (r < 85 ? 0 : 1) : status === "cancelled" ? 143 : null,
          status === "completed" ? " 12:00:00 up 1 day,  load average: 0.00, 0.01, 0.05\n" : null,
          at + 50,
          status === "completed" ? done : null,
          status === "cancelled" ? done : null,
          null,
          at,
          done,
        ]);
      }
    }
    await insertRows(
      client,
      "commands",
      ["id", "command_text", "targeting", "timeout", "expired_at", "inserted_at", "updated_at"],
      commandRows,
    );
    await insertRows(
      client,
      "command_executions",
      [
        "id",
        "command_id",
        "node_id",
        "cluster_name",
        "target_all",
        "command_text",
        "timeout",
        "expired_at",
        "status",
        "exit_code",
        "output",
        "sent_at",
        "completed_at",
        "cancelled_at",
        "cancel_requested_at",
        "inserted_at",
        "updated_at",
      ],
      execRows,
    );
    await client.execute("ANALYZE");
    const counts = await client.batch(
      [
        "SELECT count(*) AS n FROM nodes",
        "SELECT count(*) AS n FROM command_executions",
        "SELECT count(*) AS n FROM commands",
      ],
      "read",
    );
    return {
      nodeIds,
      commandIds,
      nodes: Number(counts[0].rows[0].n),
      executions: Number(counts[1].rows[0].n),
      commands: Number(counts[2].rows[0].n),
    };
  } finally {
    client.close();
  }
}
