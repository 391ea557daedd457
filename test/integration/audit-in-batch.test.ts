import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { createDatabase } from "../../src/db/client";
import { ridesAlong } from "../../workers/audit/ride-along";
import { listOperations, type OperationSpec } from "../../workers/openapi/registry";
import { enrolNode } from "./agent-session";
import { createTestApi, type TestApi } from "./harness";

// Changes whose audit event is written in the change's own batch: the event lands exactly once with
// the change, a change that found nothing records nothing, and when the audit insert fails the
// change is undone (the database refuses audit inserts through a trigger in this file's own database).
const RELEASE = { version: "9.9.9", url: "https://downloads.example.com/a.mjs", sha256: "ab".repeat(32) };
let api: TestApi;
let db: ReturnType<typeof createDatabase>;

beforeAll(async () => {
  api = await createTestApi();
  db = createDatabase({ url: api.env.LIBSQL_URL! });
});

async function eventsFor(event: string, resourceId: string) {
  return db.all<{ success: number; status_code: number }>(
    sql`SELECT success, status_code FROM audit_events WHERE event = ${event} AND resource_id = ${resourceId}`,
  );
}

async function asResult(res: Response) {
  return { status: res.status, body: (await res.json()) as any, headers: res.headers };
}

async function refusingAudit<T>(work: () => Promise<T>): Promise<T> {
  await db.run(
    sql.raw(
      "CREATE TRIGGER audit_refused BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'audit refused'); END",
    ),
  );
  try {
    return await work();
  } finally {
    await db.run(sql.raw("DROP TRIGGER audit_refused"));
  }
}

describe("cluster delete", () => {
  it("writes cluster.deleted once, with the delete", async () => {
    expect((await api.post("/api/v1/clusters", { name: "gone" })).status).toBe(201);
    expect((await api.del("/api/v1/clusters/gone")).status).toBe(204);
    expect(await eventsFor("cluster.deleted", "gone")).toEqual([{ success: 1, status_code: 204 }]);
  });

  it("a failing audit insert undoes the delete", async () => {
    expect((await api.post("/api/v1/clusters", { name: "kept" })).status).toBe(201);
    const res = await refusingAudit(() => api.del("/api/v1/clusters/kept"));
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect((await api.get("/api/v1/clusters/kept")).status).toBe(200);
    expect(await eventsFor("cluster.deleted", "kept")).toEqual([]);
  });
});

describe("webhook delete", () => {
  async function webhook() {
    const res = await api.post("/api/v1/webhooks", {
      url: "https://hooks.example.com/outpost",
      secret: "a-webhook-secret-of-some-length-0123456789",
      subscribed_events: ["edge.node.cluster_changed"],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.data.id as string;
  }

  it("writes webhook.deleted once; an unknown id records nothing", async () => {
    const id = await webhook();
    expect((await api.del(`/api/v1/webhooks/${id}`)).status).toBe(204);
    expect(await eventsFor("webhook.deleted", id)).toEqual([{ success: 1, status_code: 204 }]);
    const ghost = crypto.randomUUID();
    expect((await api.del(`/api/v1/webhooks/${ghost}`)).status).toBe(404);
    expect(await eventsFor("webhook.deleted", ghost)).toEqual([]);
  });

  it("a failing audit insert undoes the delete", async () => {
    const id = await webhook();
    const res = await refusingAudit(() => api.del(`/api/v1/webhooks/${id}`));
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect((await api.get(`/api/v1/webhooks/${id}`)).status).toBe(200);
  });
});

// One representative change of each resource: with the audit insert refused it is undone (the
// request fails and the table is as before); otherwise its request wrote exactly one event.
describe("every resource's change carries its event", () => {
  let cluster = "";
  let nodeId = "";
  beforeAll(async () => {
    cluster = "rides";
    expect((await api.post("/api/v1/clusters", { name: cluster })).status).toBe(201);
    nodeId = (await enrolNode(api, cluster)).nodeId;
    await db.run(sql`UPDATE nodes SET status = 'healthy' WHERE id = ${nodeId}`);
  });

  const fingerprint = (table: string) =>
    db.all(sql.raw(`SELECT * FROM "${table}" ORDER BY rowid`)).then((rows) => JSON.stringify(rows));

  async function eventsOf(requestId: string) {
    return db.all<{ event: string; success: number }>(
      sql`SELECT event, success FROM audit_events WHERE request_id = ${requestId}`,
    );
  }

  type Send = () => Promise<{ status: number; body: any; headers: Headers }>;
  const cases: [string, string, () => Send | Promise<Send>][] = [
    [
      "clusters",
      "cluster.created",
      () => () => api.post("/api/v1/clusters", { name: `c-${crypto.randomUUID().slice(0, 8)}` }),
    ],
    ["clusters", "cluster.updated", () => () => api.patch(`/api/v1/clusters/${cluster}`, { node_limit: 50 })],
    [
      "enrollment_keys",
      "enrollment_key.created",
      () => () => api.post(`/api/v1/clusters/${cluster}/enrollment_keys`, {}),
    ],
    [
      "nodes",
      "node.updated",
      () => () => api.patch(`/api/v1/nodes/${nodeId}`, { display_name: `n-${Date.now()}` }),
    ],
    ["nodes", "node.rotate_token", () => () => api.patch(`/api/v1/nodes/${nodeId}/rotate_token`)],
    [
      "aliases",
      "alias.created",
      () => () =>
        api.post(`/api/v1/nodes/${nodeId}/aliases`, { name: `a-${crypto.randomUUID().slice(0, 8)}` }),
    ],
    [
      "ssh_usernames",
      "ssh_username.created",
      () => () =>
        api.post(`/api/v1/nodes/${nodeId}/ssh_usernames`, {
          username: `u${crypto.randomUUID().slice(0, 8)}`,
        }),
    ],
    [
      "commands",
      "command.created",
      () => () =>
        api.post("/api/v1/commands", {
          command_text: "true",
          targeting: { type: "nodes", node_ids: [nodeId] },
        }),
    ],
    [
      "self_update_requests",
      "self_update_request.created",
      () => () =>
        api.post("/api/v1/self_update_requests", {
          targeting: { type: "nodes", node_ids: [nodeId] },
          release: RELEASE,
        }),
    ],
    [
      "inventory_refresh_requests",
      "inventory_refresh_request.created",
      () => () =>
        api.post("/api/v1/inventory_refresh_requests", { targeting: { type: "nodes", node_ids: [nodeId] } }),
    ],
    [
      "webhooks",
      "webhook.created",
      () => () =>
        api.post("/api/v1/webhooks", {
          url: "https://hooks.example.com/rides",
          secret: "a-webhook-secret-of-some-length-0123456789",
          subscribed_events: ["edge.node.cluster_changed"],
        }),
    ],
    [
      "alert_rules",
      "alert_rule.created",
      () => () =>
        api.post("/api/v1/alert_rules", {
          name: `r-${crypto.randomUUID().slice(0, 8)}`,
          metric: "disk",
          warning_threshold: 80,
          critical_threshold: 90,
        }),
    ],
    [
      "alert_silences",
      "alert_silence.created",
      () => () =>
        api.post("/api/v1/alert_silences", {
          ends_at: new Date(Date.now() + 600_000).toISOString(),
          comment: "rides",
        }),
    ],
    [
      "notification_channels",
      "notification_channel.created",
      () => () =>
        api.post("/api/v1/notification_channels", {
          name: `ch-${crypto.randomUUID().slice(0, 8)}`,
          type: "slack",
          config: { webhook_url: "https://hooks.example.com/slack" },
        }),
    ],
    [
      "users",
      "user.created",
      () => () =>
        api.post("/api/v1/users", {
          username: `u-${crypto.randomUUID().slice(0, 8)}`,
          password: "a-long-enough-password",
          roles: ["viewer"],
        }),
    ],
    [
      "roles",
      "role.created",
      () => () =>
        api.post("/api/v1/roles", {
          name: `role-${crypto.randomUUID().slice(0, 8)}`,
          permissions: ["nodes:read"],
        }),
    ],
    [
      "api_tokens",
      "api_token.created",
      () => () =>
        api.post("/api/v1/api_tokens", {
          name: `t-${crypto.randomUUID().slice(0, 8)}`,
          scopes: ["nodes:read"],
        }),
    ],
    [
      "node_tombstones",
      "node_tombstone.deleted",
      async () => {
        const blocked = crypto.randomUUID();
        await db.run(
          sql`INSERT INTO node_tombstones (node_id, inserted_at) VALUES (${blocked}, ${Date.now()})`,
        );
        return () => api.del(`/api/v1/node_tombstones/${blocked}`);
      },
    ],
    [
      "enrollment_keys",
      "enrollment_key.deleted",
      async () => {
        const key = await api.post(`/api/v1/clusters/${cluster}/enrollment_keys`, {});
        return () => api.del(`/api/v1/enrollment_keys/${key.body.data.id}`);
      },
    ],
    [
      "power_actions",
      "power_action.created",
      () => () =>
        api.post(`/api/v1/nodes/${nodeId}/power_actions`, {
          action: "reboot",
          confirm: true,
          delay_seconds: 60,
          queue: true,
        }),
    ],
    [
      "alert_rules",
      "alert.config",
      () => () =>
        api
          .fetch("/api/v1/alerts/config", { method: "PUT", json: { disk: { warning: 71, critical: 91 } } })
          .then(asResult),
    ],
    [
      "alerts",
      "alert.acknowledge",
      async () => {
        const id = crypto.randomUUID();
        await db.run(sql`INSERT INTO alerts (id, rule_id, node_id, metric, level, status, value, peak_value,
          threshold, started_at, updated_at) VALUES (${id}, ${crypto.randomUUID()}, ${nodeId}, 'disk', 'warning',
          'firing', 95, 95, 90, ${Date.now()}, ${Date.now()})`);
        return () => api.patch(`/api/v1/alerts/${id}/acknowledge`, {});
      },
    ],
    [
      "node_registrations",
      "node_registration.reject",
      async () => {
        const id = crypto.randomUUID();
        await db.run(sql`INSERT INTO node_registrations (id, cluster_id, proposed_node_id, id_type, hostname,
          status, poll_secret_hash, inserted_at, updated_at)
          SELECT ${id}, id, ${crypto.randomUUID()}, 'random', 'waiting', 'pending', 'x', ${Date.now()}, ${Date.now()}
            FROM clusters WHERE name = ${cluster}`);
        return () => api.patch(`/api/v1/node_registrations/${id}/reject`, {});
      },
    ],
  ];

  for (const [table, event, prepare] of cases) {
    it(`${event}: one event with the change; a refused event undoes it`, async () => {
      const send = await prepare();
      const before = await fingerprint(table);
      const refused = await refusingAudit(send);
      expect(refused.status, JSON.stringify(refused.body)).toBeGreaterThanOrEqual(500);
      expect(await fingerprint(table)).toBe(before);
      const ok = await (await prepare())();
      expect(ok.status, JSON.stringify(ok.body)).toBeLessThan(300);
      expect(await eventsOf(ok.headers.get("x-request-id") ?? "")).toEqual([{ event, success: 1 }]);
    });
  }
});

// Every mutating operation's event rides in its change's batch (defineRoute hands its handler the
// riding database), unless it is listed here with the reason it cannot.
const OWN_BATCH: Record<string, string> = {
  // Their stores build the event into the change's own batch (with details the generic event lacks).
  "POST /api/v1/users": "users store",
  "PATCH /api/v1/users/{id}": "users store",
  "DELETE /api/v1/users/{id}": "users store",
  "PUT /api/v1/users/{id}/password": "users store",
  "PATCH /api/v1/users/{id}/unlock": "users store",
  "POST /api/v1/roles": "roles store",
  "PATCH /api/v1/roles/{id}": "roles store",
  "DELETE /api/v1/roles/{id}": "roles store",
  "POST /api/v1/api_tokens": "api token issuing",
  "DELETE /api/v1/api_tokens/{id}": "api token issuing",
  "PATCH /api/v1/api_tokens/{id}/rotate": "api token issuing",
  "POST /api/v1/auth/logout": "the session delete's batch",
  "PATCH /api/v1/auth/me": "users store",
  "PUT /api/v1/auth/me/password": "users store",
};
const NOT_AUDITED: Record<string, string> = {
  "POST /api/v1/stream_tokens": "stateless: the token is sealed, nothing is stored",
  "POST /api/v1/auth/login": "public; login writes auth.login / auth.login_failed in its own batch",
  "POST /api/v1/clusters/default/enrollment_keys/public": "public: no principal to record",
  "POST /agent/v1/enroll": "public: an agent with a key, no principal (an approval is audited)",
};
const OUTSIDE_BATCH = [
  "POST /api/v1/nodes/{node_id}/processes/{pid}/signal",
  "POST /api/v1/nodes/{node_id}/files",
  "PATCH /api/v1/nodes/{node_id}/inventory/refresh",
  "POST /api/v1/enrollment_keys/{id}/install_command",
];

describe("route table", () => {
  const mutating = listOperations().filter((op) => op.method !== "get");
  const key = (op: OperationSpec) => `${op.method.toUpperCase()} ${op.path}`;

  it("every mutating operation's event rides in its change's batch, or is listed with its reason", () => {
    const unexplained = mutating
      .filter((op) => !ridesAlong(op))
      .map(key)
      .filter((k) => !(k in OWN_BATCH) && !(k in NOT_AUDITED) && !OUTSIDE_BATCH.includes(k));
    expect(unexplained).toEqual([]);
    expect(mutating.filter(ridesAlong).length).toBeGreaterThan(40);
  });

  it("the exemptions are exactly the operations that declare them", () => {
    const declared = mutating.filter((op) => (op.audit ? op.audit.outsideBatch : undefined)).map(key);
    expect(declared.sort()).toEqual([...OUTSIDE_BATCH].sort());
    for (const k of [...Object.keys(OWN_BATCH), ...Object.keys(NOT_AUDITED)]) {
      const op = mutating.find((o) => key(o) === k);
      expect(op, k).toBeDefined();
      expect(op && ridesAlong(op), k).toBe(false);
    }
  });
});
