import { rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentProcess, copyBundle, startAgent, stopAllAgents, tempDir } from "../support/agent-process";
import { printOutputsOnFailure } from "../support/failure-output";
import { E2E_API_KEY, type Stack, startStack } from "../support/stack";

// A real agent on this machine reports its memory usage; a rule with a threshold far below it fires,
// and the node's session sends the Slack-format notification to a real HTTP receiver on loopback
// (private addresses allowed for the test) at once: this stack has no cron ticker, so nothing else
// could have sent it. Repeats belong to the cron, so the test ticks it by hand; acknowledging stops
// them. Its own stack: the shared one neither allows private addresses nor lets a file tick its cron.

interface Received {
  path: string;
  body: any;
  at: number;
}

describe("alert notifications end to end", () => {
  let workDir: string;
  let stack: Stack;
  let agent: AgentProcess | undefined;
  let receiver: Server;
  let receiverUrl: string;
  const received: Received[] = [];

  async function api(method: string, path: string, body?: unknown) {
    const res = await fetch(`${stack.url}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${E2E_API_KEY}`,
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  }

  /** One cron tick, as the dev runner's ticker would call it. */
  async function tick() {
    const res = await fetch(`${stack.url}/cdn-cgi/handler/scheduled?cron=*+*+*+*+*`);
    await res.text();
    expect(res.ok).toBe(true);
  }

  async function until<T>(
    what: string,
    probe: () => T | undefined | Promise<T | undefined>,
    timeoutMs = 60_000,
  ) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  beforeAll(async () => {
    receiver = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      received.push({
        path: req.url ?? "",
        body: JSON.parse(Buffer.concat(chunks).toString("utf8")),
        at: Date.now(),
      });
      res.writeHead(200).end("ok");
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    workDir = await tempDir("outpost-e2e-alerts-");
    stack = await startStack({
      dataDir: join(workDir, "stack"),
      cronInterval: 0,
      env: { WEBHOOK_ALLOW_PRIVATE_IPS: "true" },
    });
  });

  afterAll(async () => {
    await stopAllAgents();
    await stack?.stop();
    await new Promise((r) => receiver?.close(r));
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  printOutputsOnFailure(() => ({
    stack: stack?.output(),
    agent: agent?.output(),
    received: JSON.stringify(received).slice(0, 2000),
  }));

  it("fires on a real agent's memory usage within two heartbeats, notifies Slack-style at once, repeats, stops repeating once acknowledged, and resolves when the threshold is raised", async () => {
    expect((await api("POST", "/api/v1/clusters", { name: "alerting" })).status).toBe(201);
    const channel = await api("POST", "/api/v1/notification_channels", {
      name: "ops slack",
      type: "slack",
      config: { webhook_url: `${receiverUrl}/slack/ops` },
    });
    expect(channel.status, JSON.stringify(channel.json)).toBe(201);
    // Before the agent connects, so its session's first rules fetch already sees the rule.
    const rule = await api("POST", "/api/v1/alert_rules", {
      name: "Memory in use",
      metric: "memory",
      warning_threshold: 0.5,
      for_seconds: 0,
      targeting: { type: "clusters", cluster_names: ["alerting"] },
      channel_ids: [channel.json.data.id],
      repeat_interval_seconds: 2,
    });
    expect(rule.status, JSON.stringify(rule.json)).toBe(201);

    const key = await api("POST", "/api/v1/clusters/alerting/enrollment_keys", {});
    const bundle = await copyBundle(workDir);
    agent = startAgent({
      bundle,
      stateDir: join(workDir, "state"),
      env: { ENROLLMENT_KEY: key.json.data.key, OUTPOST_ID_TYPE: "random", OUTPOST_HEARTBEAT_INTERVAL: "1" },
    });
    await agent.waitFor(/INFO\s+connected/);
    const connectedAt = Date.now();

    // No cron tick has run on this stack: the session that recorded the alert sent it.
    const first = await until(
      "the Slack notification without a cron tick",
      () => received.find((r) => r.path === "/slack/ops"),
      20_000,
    );
    expect(first.at - connectedAt).toBeLessThan(15_000);
    expect(first.body.text).toMatch(/^\[WARNING\] Memory in use on \S+: memory [\d.]+ \(threshold 0\.5\)$/);
    expect(first.body.attachments[0].fields).toEqual(
      expect.arrayContaining([{ title: "Cluster", value: "alerting", short: true }]),
    );

    const firing = await api("GET", `/api/v1/alerts?rule_id=${rule.json.data.id}&status=firing`);
    expect(firing.json.data).toHaveLength(1);
    const alert = firing.json.data[0];
    expect(alert).toMatchObject({ metric: "memory", level: "warning", threshold: 0.5, acknowledged: false });
    expect(alert.value).toBeGreaterThan(0.5);
    // Within two heartbeats: the alert's start is the time of the heartbeat that fired it, and at
    // most one sample of the node's history comes before it.
    const raw = await api(
      "GET",
      `/api/v1/nodes/${alert.node_id}/metrics/history?metrics=memory&range=1h&resolution=raw`,
    );
    expect(raw.status).toBe(200);
    const before = raw.json.data.points.filter(
      (p: { timestamp: string }) => Date.parse(p.timestamp) < Date.parse(alert.started_at),
    );
    expect(before.length, JSON.stringify(raw.json.data.points.slice(0, 5))).toBeLessThanOrEqual(1);

    // Unacknowledged, it is told again every repeat interval (by the cron).
    await until("a repeat", async () => {
      await tick();
      return received.find((r) => r.body.text?.includes("(still firing)"));
    });

    const acked = await api("PATCH", `/api/v1/alerts/${alert.id}/acknowledge`);
    expect(acked.status).toBe(200);
    expect(acked.json.data.acknowledged).toBe(true);
    // A repeat already claimed when the acknowledgement landed may still arrive; then nothing more.
    await new Promise((r) => setTimeout(r, 2_000));
    await tick();
    const settled = received.length;
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 1_000));
      await tick();
    }
    expect(received.length).toBe(settled);

    const deliveries = await api(
      "GET",
      `/api/v1/notification_channels/${channel.json.data.id}/deliveries?alert_id=${alert.id}`,
    );
    const reasons = deliveries.json.data.map((d: { reason: string }) => d.reason);
    expect(reasons).toContain("fired");
    expect(reasons).toContain("repeat");
    expect(deliveries.json.data.every((d: { status: string }) => d.status === "succeeded")).toBe(true);

    // Raising the threshold above any memory usage resolves it at the node's next heartbeat (the
    // route tells the session; its rules cache would otherwise hold for a minute), and the channel
    // that was told of the fire hears of the resolve.
    const raised = await api("PATCH", `/api/v1/alert_rules/${rule.json.data.id}`, { warning_threshold: 100 });
    expect(raised.status).toBe(200);
    const resolved = await until(
      "the alert resolved",
      async () => {
        const got = await api("GET", `/api/v1/alerts/${alert.id}`);
        return got.json.data.status === "resolved" ? got.json.data : undefined;
      },
      20_000,
    );
    expect(resolved.resolved_at).not.toBeNull();
    await until(
      "the resolve notification",
      async () => {
        await tick();
        return received.find((r) => r.body.text?.startsWith("[RESOLVED]"));
      },
      20_000,
    );
  });
});
