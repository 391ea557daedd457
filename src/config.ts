import { SETTINGS } from "./settings";

/**
 * Settings and bindings: the one leaf both the Worker and the Durable Objects read their
 * environment through. It imports nothing above `src/`: each Durable Object namespace binding is
 * declared beside its class (`declare module "../src/config"` in `durable-objects/*.ts`), so every
 * binding stays typed without a type cycle between the config and the objects that read it.
 */

/** A dispatch queue message: node ids whose `pending` executions should be delivered. */
export interface DispatchMessage {
  node_ids: string[];
  /** What to do for these nodes: deliver their pending executions (default), or push their agents' `config`. */
  kind?: "executions" | "config";
}

/** Raw bindings the Worker and its Durable Objects receive (strings from `[vars]`, `.dev.vars` and secrets). */
export interface Env {
  API_KEY?: string;
  MASTER_KEY?: string;
  ENCRYPTION_KEY?: string;
  LIBSQL_URL?: string;
  LIBSQL_AUTH_TOKEN?: string;
  PUBLIC_API_URL?: string;
  DEFAULT_CLUSTER_NAME?: string;
  PUBLIC_ENROLLMENT_KEY_ENABLED?: string;
  CLUSTER_IPV4_POOL?: string;
  CLUSTER_IPV4_PREFIX?: string;
  VPN_DOMAIN_SUFFIX?: string;
  NODE_HEARTBEAT_STALE_FACTOR?: string;
  NODE_HTTP_PORT?: string;
  NODE_HTTP_PROXY_PORT?: string;
  NODE_SOCKS5_PROXY_PORT?: string;
  NODE_SSH_PORT?: string;
  NODE_HOST_METRICS_PORT?: string;
  NODE_WIREGUARD_METRICS_PORT?: string;
  DISPATCH_QUEUE?: Queue<DispatchMessage>;
  EXECUTION_RETENTION_DAYS?: string;
  EVENT_RETENTION_DAYS?: string;
  WEBHOOK_DELIVERY_RETENTION_DAYS?: string;
  BATCH_WRITER_SHARDS?: string;
  NODE_FRAME_RATE?: string;
  NODE_FRAME_BURST?: string;
  INVENTORY_REFRESH_NODES_PER_TICK?: string;
  NODE_STATUS_MIN_INTERVAL_SECONDS?: string;
  NODE_REGISTRATION_POLL_SECONDS?: string;
  STREAM_MAX_SUBSCRIBERS_PER_NODE?: string;
  STREAM_MAX_LIFETIME_SECONDS?: string;
  METRICS_DETAIL_INTERVAL_SECONDS?: string;
  NODE_RPC_TIMEOUT_SECONDS?: string;
  FILE_TRANSFER_MAX_BYTES?: string;
  WEBHOOK_ALLOW_PRIVATE_IPS?: string;
  WEBHOOK_MAX_ATTEMPTS?: string;
  AUDIT_SIGNING_KEY?: string;
  AUDIT_RETENTION_DAYS?: string;
  AUTH_CACHE_SECONDS?: string;
  ASSETS?: Fetcher;
  RATE_LIMIT_ENROLL_PER_MINUTE?: string;
  RATE_LIMIT_PUBLIC_KEY_PER_MINUTE?: string;
  RATE_LIMIT_AUTH_FAILURES_PER_MINUTE?: string;
  PUBLIC_ENROLLMENT_KEY_TTL_SECONDS?: string;
  PUBLIC_ENROLLMENT_KEY_MAX_OUTSTANDING?: string;
  ENROLLMENT_KEY_RETENTION_DAYS?: string;
  /** Workers Rate Limiting bindings (wrangler.toml `[[ratelimits]]`, 10 per 60 s per key). */
  ENROLL_RATE_LIMITER?: RateLimit;
  PUBLIC_KEY_RATE_LIMITER?: RateLimit;
  AUTH_FAILURE_RATE_LIMITER?: RateLimit;
  SSH_PASSWORD_RATE_LIMITER?: RateLimit;
  RATE_LIMIT_SSH_PASSWORD_PER_MINUTE?: string;
}

/** Ports every node reports (the contract's NodeResponse port fields). */
export interface NodePorts {
  http_port: number;
  http_proxy_port: number;
  socks5_proxy_port: number;
  ssh_port: number;
  host_metrics_port: number;
  wireguard_metrics_port: number;
}

/** Settings parsed once per environment object: typed, defaulted, checked. */
export interface Config {
  apiKeys: string[];
  encryptionKey: string;
  libsqlUrl: string;
  libsqlAuthToken?: string;
  publicApiUrl?: string;
  defaultClusterName?: string;
  publicEnrollmentKeyEnabled: boolean;
  clusterIpv4Pool: string;
  clusterIpv4Prefix: number;
  vpnDomainSuffix: string;
  heartbeatStaleFactor: number;
  executionRetentionDays: number;
  eventRetentionDays: number;
  webhookDeliveryRetentionDays: number;
  batchWriterShards: number;
  /** Token bucket of an agent connection: frames per second, and the burst. */
  nodeFrameRate: number;
  nodeFrameBurst: number;
  /** Nodes a fleet inventory refresh asks per step (the creating request, then each cron tick). */
  inventoryRefreshNodesPerTick: number;
  nodeStatusMinIntervalMs: number;
  registrationPollSeconds: number;
  /** Live-output streams per node at once, and the longest one may stay open. */
  streamMaxSubscribers: number;
  streamMaxLifetimeMs: number;
  /** `metrics_detail_interval_seconds` of the agents' `config`. */
  metricsDetailIntervalSeconds: number;
  /** How long the object waits for an agent's answer to an `rpc` (processes, logs, files). */
  nodeRpcTimeoutMs: number;
  /** Largest file a download or upload through a node's session may move. */
  fileTransferMaxBytes: number;
  webhookAllowPrivateIps: boolean;
  webhookMaxAttempts: number;
  auditSigningKey?: string;
  auditRetentionDays: number;
  /** How long an isolate keeps a resolved session or API token; 0 = every request reads the database. */
  authCacheMs: number;
  nodePorts: NodePorts;
  /** Requests per client per minute; 0 = no limit. */
  rateLimits: { enroll: number; publicKey: number; authFailures: number; sshPassword: number };
  publicEnrollmentKeyTtlSeconds: number;
  publicEnrollmentKeyMaxOutstanding: number;
  enrollmentKeyRetentionDays: number;
}

/** Raised when a setting is missing or malformed; surfaces as a 500 naming the setting, never silently. */
export class ConfigError extends Error {}

const cache = new WeakMap<object, Config>();

function setting(env: Env, name: keyof Env): string | undefined {
  const raw = env[name];
  if (raw !== undefined && raw !== "") return String(raw);
  return SETTINGS.find((s) => s.name === name)?.default;
}

/** A setting that has a default in `SETTINGS`, so it is never missing unless the list lost it. */
function defaulted(env: Env, name: keyof Env): string {
  const value = setting(env, name);
  if (value === undefined) throw new ConfigError(`${name} must be set`);
  return value;
}

function bool(env: Env, name: keyof Env): boolean {
  const raw = (setting(env, name) ?? "false").toLowerCase();
  if (raw === "true" || raw === "1") return true;
  if (raw === "false" || raw === "0") return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

function int(env: Env, name: keyof Env, min: number, max: number): number {
  const raw = setting(env, name) ?? "";
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new ConfigError(`${name} must be an integer in [${min}, ${max}], got "${raw}"`);
  return n;
}

/** API_KEY, MASTER_KEY and ENCRYPTION_KEY shorter than this are refused: a short key can be guessed. */
export const MIN_KEY_LENGTH = 24;

/** PUBLIC_API_URL is handed to agents and substituted into install.sh, so only a plain origin. */
export const PUBLIC_ORIGIN = /^https?:\/\/[A-Za-z0-9.-]+(:\d+)?$/;

function publicApiUrl(env: Env): string | undefined {
  const value = env.PUBLIC_API_URL?.replace(/\/+$/, "");
  if (!value) return undefined;
  if (!PUBLIC_ORIGIN.test(value)) {
    throw new ConfigError(
      "PUBLIC_API_URL must be an origin such as https://outpost.example.com (scheme, host and optional port; no path)",
    );
  }
  return value;
}

/**
 * Parses and validates the settings; memoised per `env` object, so a bad setting fails the first
 * request with a message naming it.
 * @example const { libsqlUrl } = loadConfig(env)
 */
export function loadConfig(env: Env): Config {
  const hit = cache.get(env);
  if (hit) return hit;
  const apiKeys = [env.API_KEY, env.MASTER_KEY].filter(
    (k): k is string => typeof k === "string" && k.length > 0,
  );
  if (apiKeys.length === 0) throw new ConfigError("API_KEY or MASTER_KEY must be set");
  if (!env.ENCRYPTION_KEY) throw new ConfigError("ENCRYPTION_KEY must be set");
  for (const name of ["API_KEY", "MASTER_KEY", "ENCRYPTION_KEY"] as const) {
    const value = env[name];
    if (value && value.length < MIN_KEY_LENGTH) {
      throw new ConfigError(
        `${name} must be at least ${MIN_KEY_LENGTH} characters (npm start generates such keys; e.g. openssl rand -base64 32)`,
      );
    }
  }
  if (!env.LIBSQL_URL) throw new ConfigError("LIBSQL_URL must be set");
  const config: Config = {
    apiKeys,
    encryptionKey: env.ENCRYPTION_KEY,
    libsqlUrl: env.LIBSQL_URL,
    libsqlAuthToken: env.LIBSQL_AUTH_TOKEN || undefined,
    publicApiUrl: publicApiUrl(env),
    defaultClusterName: env.DEFAULT_CLUSTER_NAME || undefined,
    publicEnrollmentKeyEnabled: bool(env, "PUBLIC_ENROLLMENT_KEY_ENABLED"),
    clusterIpv4Pool: defaulted(env, "CLUSTER_IPV4_POOL"),
    clusterIpv4Prefix: int(env, "CLUSTER_IPV4_PREFIX", 8, 30),
    vpnDomainSuffix: defaulted(env, "VPN_DOMAIN_SUFFIX"),
    heartbeatStaleFactor: int(env, "NODE_HEARTBEAT_STALE_FACTOR", 2, 20),
    executionRetentionDays: int(env, "EXECUTION_RETENTION_DAYS", 1, 3650),
    eventRetentionDays: int(env, "EVENT_RETENTION_DAYS", 1, 3650),
    webhookDeliveryRetentionDays: int(env, "WEBHOOK_DELIVERY_RETENTION_DAYS", 1, 3650),
    batchWriterShards: int(env, "BATCH_WRITER_SHARDS", 1, 256),
    nodeFrameRate: int(env, "NODE_FRAME_RATE", 1, 10_000),
    nodeFrameBurst: int(env, "NODE_FRAME_BURST", 1, 100_000),
    inventoryRefreshNodesPerTick: int(env, "INVENTORY_REFRESH_NODES_PER_TICK", 1, 5_000),
    nodeStatusMinIntervalMs: int(env, "NODE_STATUS_MIN_INTERVAL_SECONDS", 0, 86_400) * 1000,
    registrationPollSeconds: int(env, "NODE_REGISTRATION_POLL_SECONDS", 1, 300),
    streamMaxSubscribers: int(env, "STREAM_MAX_SUBSCRIBERS_PER_NODE", 1, 10_000),
    streamMaxLifetimeMs: int(env, "STREAM_MAX_LIFETIME_SECONDS", 1, 86_400) * 1000,
    metricsDetailIntervalSeconds: int(env, "METRICS_DETAIL_INTERVAL_SECONDS", 10, 86_400),
    nodeRpcTimeoutMs: int(env, "NODE_RPC_TIMEOUT_SECONDS", 1, 300) * 1000,
    fileTransferMaxBytes: int(env, "FILE_TRANSFER_MAX_BYTES", 1, 500 * 1024 * 1024),
    webhookAllowPrivateIps: bool(env, "WEBHOOK_ALLOW_PRIVATE_IPS"),
    webhookMaxAttempts: int(env, "WEBHOOK_MAX_ATTEMPTS", 1, 20),
    auditSigningKey: env.AUDIT_SIGNING_KEY || undefined,
    auditRetentionDays: int(env, "AUDIT_RETENTION_DAYS", 1, 36500),
    authCacheMs: int(env, "AUTH_CACHE_SECONDS", 0, 300) * 1000,
    rateLimits: {
      enroll: int(env, "RATE_LIMIT_ENROLL_PER_MINUTE", 0, 100_000),
      publicKey: int(env, "RATE_LIMIT_PUBLIC_KEY_PER_MINUTE", 0, 100_000),
      authFailures: int(env, "RATE_LIMIT_AUTH_FAILURES_PER_MINUTE", 0, 100_000),
      sshPassword: int(env, "RATE_LIMIT_SSH_PASSWORD_PER_MINUTE", 0, 100_000),
    },
    publicEnrollmentKeyTtlSeconds: int(env, "PUBLIC_ENROLLMENT_KEY_TTL_SECONDS", 60, 30 * 86_400),
    publicEnrollmentKeyMaxOutstanding: int(env, "PUBLIC_ENROLLMENT_KEY_MAX_OUTSTANDING", 1, 100_000),
    enrollmentKeyRetentionDays: int(env, "ENROLLMENT_KEY_RETENTION_DAYS", 0, 3650),
    nodePorts: {
      http_port: int(env, "NODE_HTTP_PORT", 1, 65535),
      http_proxy_port: int(env, "NODE_HTTP_PROXY_PORT", 1, 65535),
      socks5_proxy_port: int(env, "NODE_SOCKS5_PROXY_PORT", 1, 65535),
      ssh_port: int(env, "NODE_SSH_PORT", 1, 65535),
      host_metrics_port: int(env, "NODE_HOST_METRICS_PORT", 1, 65535),
      wireguard_metrics_port: int(env, "NODE_WIREGUARD_METRICS_PORT", 1, 65535),
    },
  };
  cache.set(env, config);
  return config;
}
