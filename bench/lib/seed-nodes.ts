// Direct node seeding for the swarm (fan-out `--fanout-enrol direct`): nodes are inserted straight
// into libSQL — a token per node, its SHA-256 and its AES-GCM ciphertext under this stack's
// ENCRYPTION_KEY (read from the stack's dev vars file), the other columns copied from a node the API
// enrolled — so the Worker accepts their connections exactly as for enrolled ones. 10,000 API
// enrolments, 16 at a time, take longer than the fan-out measurement itself.
import { readFile } from "node:fs/promises";
import { createClient } from "@libsql/client";
import { encryptSecret, randomSecret, sha256Hex } from "../../src/crypto/secrets";
import { nodeNameFor } from "../../src/nodes/names";
import type { BenchStack } from "./bench-stack";
import type { SwarmIdentity } from "./swarm-client";

const ipOf = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");

/** Inserts `count` nodes into the template node's cluster; returns their identities for the swarm. */
export async function seedNodes(
  stack: BenchStack,
  templateId: string,
  count: number,
): Promise<SwarmIdentity[]> {
  // The runner writes unquoted KEY=value lines (scripts/dev/config.mjs).
  const devVars = await readFile(`${stack.dataDir}/.dev.vars`, "utf8");
  const key = /^ENCRYPTION_KEY=(.*)$/m.exec(devVars)?.[1]?.trim();
  if (!key) throw new Error("no ENCRYPTION_KEY in the stack's dev vars file");
  const client = createClient({ url: stack.libsqlUrl });
  try {
    const template = (await client.execute({ sql: "SELECT * FROM nodes WHERE id = ?", args: [templateId] }))
      .rows[0] as Record<string, any>;
    const cluster = (
      await client.execute({
        sql: "SELECT ipv4_start, next_host FROM clusters WHERE id = ?",
        args: [template.cluster_id],
      })
    ).rows[0] as Record<string, any>;
    const taken = new Set(
      (
        await client.execute({
          sql: "SELECT ipv4_address FROM nodes WHERE cluster_id = ?",
          args: [template.cluster_id],
        })
      ).rows.map((r: any) => r.ipv4_address),
    );
    const columns = Object.keys(template);
    const identities: SwarmIdentity[] = [];
    const rows: unknown[][] = [];
    // Addresses upward from the cluster's allocation counter, skipping taken ones; the triggers on
    // nodes move the counter past them, so a later API enrolment never collides with a seeded node.
    let address = Number(cluster.ipv4_start) + 2 + Number(cluster.next_host);
    const now = Date.now();
    for (let i = 0; i < count; i++) {
      while (taken.has(ipOf(address))) address++;
      const id = crypto.randomUUID();
      const token = randomSecret(32);
      const row: Record<string, unknown> = {
        ...template,
        id,
        node_name: nodeNameFor(id),
        status: "unreachable",
        ipv4_address: ipOf(address++),
        api_token_hash: await sha256Hex(token),
        api_token_ciphertext: await encryptSecret(token, key),
        last_seen_at: null,
        inserted_at: now,
        updated_at: now,
      };
      rows.push(columns.map((c) => row[c] ?? null));
      identities.push({ node_id: id, api_token: token, server: stack.url });
    }
    for (let i = 0; i < rows.length; i += 100 * 20) {
      const statements = [];
      for (let j = i; j < Math.min(rows.length, i + 100 * 20); j += 100) {
        const chunk = rows.slice(j, j + 100);
        statements.push({
          sql: `INSERT INTO nodes (${columns.join(",")}) VALUES ${chunk.map(() => `(${columns.map(() => "?").join(",")})`).join(",")}`,
          args: chunk.flat() as any,
        });
      }
      await client.batch(statements, "write");
    }
    return identities;
  } finally {
    client.close();
  }
}
