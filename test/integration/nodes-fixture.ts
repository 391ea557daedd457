import { expect } from "vitest";
import { createDatabase } from "../../src/db/client";
import { createTestApi, type TestApi } from "./harness";

// Shared by the node test files. Deletion, cluster changes and metrics reach the NodeSession Durable
// Object, which reads the root database: each file shares it and keeps apart from other files by a
// unique prefix on its cluster names. Integration files run with `isolate: false`, so this module is
// loaded once for many files: each file calls `startNodesFile()` before anything else.
export let api: TestApi;
export let db: ReturnType<typeof createDatabase>;
export let P = "";
/** The clusters this file created, by name. */
export let clusters: Record<string, { ipv4_range: string; vpn_domain: string }> = {};

/** A fresh cluster-name prefix and cluster record for the calling test file. */
export function startNodesFile(): void {
  P = `nd${crypto.randomUUID().slice(0, 6)}`;
  clusters = {};
}

// The contract's NodeResponse plus the extension fields of issue 18 (facts and operator fields).
export const NODE_FIELDS = [
  "api_token",
  "arch",
  "boot_id",
  "cluster_name",
  "custom_urls",
  "display_name",
  "host_metrics_port",
  "hostname",
  "http_port",
  "http_proxy_port",
  "id",
  "id_type",
  "inserted_at",
  "ipv4_address",
  "kernel",
  "last_seen_at",
  "mdns_hostname",
  "netmaker_host_id",
  "node_name",
  "notes",
  "os_version",
  "platform",
  "primary_ip",
  "proxy_password",
  "self_update_enabled",
  "socks5_proxy_port",
  "ssh_port",
  "status",
  "tags",
  "updated_at",
  "version",
  "vpn_hostname",
  "wireguard_metrics_port",
];

export async function makeCluster(name: string, extra: object = {}) {
  const res = await api.post("/api/v1/clusters", { name, ...extra });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  clusters[name] = res.body.data;
  return res.body.data;
}

/** Connects to the shared database. */
export async function setUpNodes(): Promise<void> {
  api = await createTestApi({}, { sharedDatabase: true });
  db = createDatabase({ url: api.env.LIBSQL_URL! });
}
