/**
 * A little seeded data so path parameters sometimes hit existing resources:
 * two clusters, an enrollment key, a node, an alias, a webhook, a command with
 * one execution, and a webhook delivery. `ensureSeed` re-creates whatever the
 * fuzzer deleted and returns the pool that `Ref`s resolve against.
 */

import { sql } from "drizzle-orm";
import fc from "fast-check";
import type { Database } from "../../../src/db/client";
import { decodeKeyBlob } from "../../../src/enrollment/key-blob";
import type { TestApi } from "../../integration/harness";
import type { FuzzOperation } from "./operations";
import { type Hints, type Ref, ref } from "./values";

export const SEED_NODE_ID = "5eed0000-0000-4000-8000-00000000f022";
export const SEED_NODE_ID_2 = "5eed0000-0000-4000-8000-00000000f023";
export const WEBHOOK_URL = "https://hooks.example.com/outpost-fuzz";
/** Both seeded nodes carry an alias of this name (in different clusters), so moving one node clashes. */
export const ALIAS_NAME = "fuzz-alias";

async function one<T>(db: Database, query: ReturnType<typeof sql>): Promise<T | undefined> {
  const rows = await db.all<T>(query);
  return rows[0];
}

/**
 * Re-creates what the fuzzer deleted (or spent) and fills `pool`. Returns the number of
 * requests it made. With `strict`, a failed step throws (first seeding); later it is skipped.
 */
export async function ensureSeed(
  api: TestApi,
  db: Database,
  pool: Record<string, string>,
  strict = false,
): Promise<number> {
  let requests = 0;
  async function call(
    method: string,
    path: string,
    json: unknown,
    auth: string | null | undefined = undefined,
  ) {
    requests++;
    const res = await api.fetch(path, { method, json, auth });
    const text = await res.text();
    const body = text ? JSON.parse(text) : null;
    if (res.status >= 300 && strict)
      throw new Error(`seeding ${method} ${path} failed: ${res.status} ${text}`);
    return res.status < 300 ? body : null;
  }

  const clusters = { clusterName: "fuzz-main", clusterName2: "fuzz-other" };
  for (const name of Object.values(clusters)) {
    if (!(await one(db, sql`SELECT 1 AS x FROM clusters WHERE name = ${name}`)))
      await call("POST", "/api/v1/clusters", { name });
  }
  Object.assign(pool, clusters);

  // One reusable key per cluster (unlimited uses, no expiry).
  for (const [suffix, cluster] of [
    ["", clusters.clusterName],
    ["2", clusters.clusterName2],
  ]) {
    const id = pool[`keyId${suffix}`];
    const usable = id
      ? await one(
          db,
          sql`SELECT 1 AS x FROM enrollment_keys WHERE id = ${id} AND uses_remaining IS NULL AND expired_at IS NULL`,
        )
      : undefined;
    if (usable) continue;
    const body = await call("POST", `/api/v1/clusters/${cluster}/enrollment_keys`, {
      name: "fuzz",
      uses_remaining: null,
    });
    if (!body) continue;
    pool[`keyId${suffix}`] = body.data.id;
    pool[`keyBlob${suffix}`] = body.data.key;
    pool[`keySecret${suffix}`] = decodeKeyBlob(body.data.key)!.key;
  }

  for (const [nodeId, suffix] of [
    [SEED_NODE_ID, ""],
    [SEED_NODE_ID_2, "2"],
  ]) {
    if (!(await one(db, sql`SELECT 1 AS x FROM nodes WHERE id = ${nodeId}`))) {
      const enrol = {
        key: pool[`keySecret${suffix}`],
        node_id: nodeId,
        id_type: "persistent",
        hostname: "fuzz-host",
        platform: "linux",
        version: "1.0.0",
      };
      // The fuzzer may have filled the cluster up: lift its limit and retry once.
      if (!(await call("POST", "/agent/v1/enroll", enrol, null))) {
        await call("PATCH", `/api/v1/clusters/${suffix ? clusters.clusterName2 : clusters.clusterName}`, {
          node_limit: null,
        });
        await call("POST", "/agent/v1/enroll", enrol, null);
      }
    }
    const alias = await one<{ id: string }>(
      db,
      sql`SELECT id FROM aliases WHERE node_id = ${nodeId} LIMIT 1`,
    );
    const aliasId =
      alias?.id ?? (await call("POST", `/api/v1/nodes/${nodeId}/aliases`, { name: ALIAS_NAME }))?.data?.id;
    if (aliasId) pool[`aliasId${suffix}`] = aliasId;
  }
  pool.nodeId = SEED_NODE_ID;
  pool.nodeId2 = SEED_NODE_ID_2;
  pool.aliasName = ALIAS_NAME;
  // A unit name the service actions accept (their path parameter is checked before the body).
  pool.serviceName = "nginx.service";

  const webhook = pool.webhookId
    ? await one(db, sql`SELECT 1 AS x FROM webhooks WHERE id = ${pool.webhookId}`)
    : undefined;
  if (!webhook) {
    const body = await call("POST", "/api/v1/webhooks", {
      url: WEBHOOK_URL,
      secret: "s".repeat(40),
      subscribed_events: ["edge.command_execution.created"],
    });
    if (body) pool.webhookId = body.data.id;
  }

  const execution = pool.executionId
    ? await one(
        db,
        sql`SELECT 1 AS x FROM command_executions WHERE id = ${pool.executionId} AND status IN ('pending', 'sent')`,
      )
    : undefined;
  const delivery = pool.deliveryId
    ? await one(db, sql`SELECT 1 AS x FROM webhook_deliveries WHERE id = ${pool.deliveryId}`)
    : undefined;
  if (!execution || !delivery) {
    const body = await call("POST", "/api/v1/commands", {
      command_text: "echo fuzz",
      targeting: { type: "nodes", node_ids: [SEED_NODE_ID] },
    });
    if (body) {
      pool.commandId = body.data.id;
      const exec = await one<{ id: string }>(
        db,
        sql`SELECT id FROM command_executions WHERE command_id = ${pool.commandId}`,
      );
      if (exec) pool.executionId = exec.id;
    }
  }
  const d = await one<{ id: string }>(
    db,
    sql`SELECT id FROM webhook_deliveries WHERE webhook_id = ${pool.webhookId ?? ""} ORDER BY inserted_at DESC LIMIT 1`,
  );
  if (d) pool.deliveryId = d.id;
  return requests;
}

const UUID_KEYS = [
  "keyId",
  "nodeId",
  "nodeId2",
  "aliasId",
  "commandId",
  "executionId",
  "webhookId",
  "deliveryId",
];

/** Refs worth trying for a path or query parameter of `op`. */
export function refsFor(op: FuzzOperation | null, param: string): Ref[] {
  const byPath: [RegExp, string][] = [
    [/enrollment_keys\/\{id\}/, "keyId"],
    [/nodes\/\{(id|node_id)\}/, "nodeId"],
    [/aliases\/\{id\}/, "aliasId"],
    [/commands\/\{id\}/, "commandId"],
    [/command_executions\/\{id\}/, "executionId"],
    [/webhooks\/\{id\}/, "webhookId"],
  ];
  switch (param) {
    case "name":
      if (op?.path.includes("/services/")) return [ref("serviceName")];
      return op?.path.includes("aliases")
        ? [ref("aliasName"), ref("clusterName")]
        : [ref("clusterName"), ref("clusterName2")];
    case "cluster_name":
      return [ref("clusterName"), ref("clusterName2")];
    case "node_id":
      return [ref("nodeId"), ref("nodeId", "upper"), ref("nodeId2")];
    case "command_id":
      return [ref("commandId")];
    case "delivery_id":
      return [ref("deliveryId"), ref("deliveryId", "upper")];
    case "key":
      return [ref("keyBlob"), ref("keySecret"), ref("keySecret2")];
    case "event_id":
      return [ref("executionId")];
    case "id": {
      const own = byPath.find(([re]) => op && re.test(op.path))?.[1];
      const other = UUID_KEYS.filter((k) => k !== own);
      return own
        ? [ref(own), ref(own), ref(own), ref(own, "upper"), ...other.map((k) => ref(k))]
        : other.map((k) => ref(k));
    }
    default:
      return [];
  }
}

/** Field-name hints for request bodies (mixed with schema-driven values). */
export function bodyHints(eventTypes: string[]): Hints {
  const clusterNames = fc.constantFrom(ref("clusterName"), ref("clusterName2"), "default", "no-such-cluster");
  return {
    cluster_name: clusterNames,
    "cluster_names[]": clusterNames,
    key: fc.constantFrom(ref("keySecret"), ref("keySecret2"), ref("keyBlob"), "not-a-key"),
    node_id: fc.oneof(fc.constantFrom(ref("nodeId"), ref("nodeId", "upper"), ref("nodeId2")), fc.uuid()),
    "node_ids[]": fc.oneof(fc.constantFrom(ref("nodeId"), ref("nodeId", "upper"), ref("nodeId2")), fc.uuid()),
    "subscribed_events[]": fc.constantFrom(...eventTypes, "edge.unknown", ""),
    url: fc.constantFrom(
      WEBHOOK_URL,
      "https://example.com/hook?x=1",
      "http://127.0.0.1/",
      "http://[::1]/",
      "http://0x7f.1/",
      "http://169.254.169.254/latest",
      "http://localhost./",
      "https://user:pw@example.com/",
      `https://example.com/${"a".repeat(2100)}`,
      "javascript:alert(1)",
      "https://xn--e1afmkfd.xn--p1ai/",
      "https://例え.jp/",
      "https:// example.com/",
      "https://",
      "http://[fd00:ec2::254]/",
    ),
    secret: fc.constantFrom(
      "s".repeat(32),
      "é".repeat(16),
      "x".repeat(31),
      "y".repeat(256),
      "z".repeat(257),
      "😀".repeat(8),
      "\u0000".repeat(32),
    ),
    headers: fc.constantFrom<Record<string, unknown>>(
      { "X-Custom": "1" },
      { Host: "x" },
      { "X-Edge-Signature": "forged" },
      { "CF-Connecting-IP": "1.2.3.4" },
      { A: "1", a: "2" },
      Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`x-h${i}`, "v"])),
      { "X-Bad": "line\r\nInjected: 1" },
      { "X-Long": "v".repeat(4097) },
      { "bad header": "v" },
      { "X-Uni": "\u0100" },
      { "X-Num": 1 },
    ),
    targeting: fc.constantFrom<Record<string, unknown>>(
      { type: "nodes", node_ids: [ref("nodeId")] },
      { type: "nodes", node_ids: [ref("nodeId", "upper"), ref("nodeId")] },
      { type: "clusters", cluster_names: [ref("clusterName")] },
      {
        type: "clusters",
        cluster_names: [ref("clusterName"), ref("clusterName2")],
        node_filters: { status: "unreachable" },
      },
      { type: "all", node_filters: { cluster_name: "fuzz-*" } },
      { type: "all", cluster_filters: { name: ref("clusterName2") } },
      { type: "all", node_filters: { version: "1.*", inserted_at__gte: "2020-01-01" } },
    ),
    command_text: fc.constantFrom(
      "echo fuzz",
      "rm -rf / --no-preserve-root",
      "\u0000",
      "$(reboot)",
      "😀".repeat(10),
    ),
  };
}
