/**
 * Every documented setting of Outpost: one list that the Worker's env parser,
 * the dev runner (which forwards them to `wrangler dev`) and the README's
 * configuration table all read. Plain data so Node can import it directly.
 */
export interface SettingSpec {
  name: string;
  secret: boolean;
  /** Default used when unset; `undefined` means "no default". */
  default?: string;
  description: string;
}

export const SETTINGS: readonly SettingSpec[] = [
  {
    name: "API_KEY",
    secret: true,
    description: "Bearer key for the REST API (`/api/v1`); at least 24 characters.",
  },
  {
    name: "MASTER_KEY",
    secret: true,
    description:
      "Second Bearer key for the REST API, for rotation or break-glass use; at least 24 characters.",
  },
  {
    name: "ENCRYPTION_KEY",
    secret: true,
    description:
      "Key for AES-GCM encryption of stored secrets (at least 24 characters; a SHA-256 of it is the AES key).",
  },
  {
    name: "LIBSQL_URL",
    secret: true,
    description: "libSQL database URL (`libsql://…` for Turso, `http://…` for sqld or the dev server).",
  },
  { name: "LIBSQL_AUTH_TOKEN", secret: true, description: "libSQL auth token (Turso)." },
  {
    name: "PUBLIC_API_URL",
    secret: false,
    description:
      "Public origin of the API (`https://host[:port]`, no path) written into enrollment keys, install.sh and release URLs. Without it, the request's origin is used when it is a plain host name (else 400).",
  },
  {
    name: "DEFAULT_CLUSTER_NAME",
    secret: false,
    description: "Cluster used by the `/clusters/default/…` convenience routes.",
  },
  {
    name: "PUBLIC_ENROLLMENT_KEY_ENABLED",
    secret: false,
    default: "false",
    description: "`true` enables the unauthenticated `POST /api/v1/clusters/default/enrollment_keys/public`.",
  },
  {
    name: "CLUSTER_IPV4_POOL",
    secret: false,
    default: "100.64.0.0/10",
    description: "Address pool from which cluster `ipv4_range`s are carved when none is given.",
  },
  {
    name: "CLUSTER_IPV4_PREFIX",
    secret: false,
    default: "24",
    description: "Prefix length of auto-allocated cluster ranges.",
  },
  {
    name: "VPN_DOMAIN_SUFFIX",
    secret: false,
    default: "nm.internal",
    description: "DNS suffix of cluster VPN domains (`cluster-<name>.<suffix>`).",
  },
  {
    name: "NODE_HEARTBEAT_STALE_FACTOR",
    secret: false,
    default: "3",
    description: "A node is `unreachable` when no heartbeat came within this many heartbeat intervals.",
  },
  {
    name: "EXECUTION_RETENTION_DAYS",
    secret: false,
    default: "30",
    description:
      "Finished command executions older than this are pruned by the cron (`edge.command_execution.pruned`).",
  },
  {
    name: "EVENT_RETENTION_DAYS",
    secret: false,
    default: "30",
    description:
      "Events older than this are pruned by the cron (with their webhook deliveries, once those are pruned).",
  },
  {
    name: "WEBHOOK_DELIVERY_RETENTION_DAYS",
    secret: false,
    default: "30",
    description:
      "Finished webhook deliveries (succeeded or failed) last changed longer ago than this are pruned by the cron, with their attempts.",
  },
  {
    name: "BATCH_WRITER_SHARDS",
    secret: false,
    default: "8",
    description:
      "Result writer Durable Objects (1–256). Command results are written to libSQL through them in group commits (one write per burst); more shards spread a very large fleet's results over more objects, fewer make bigger batches.",
  },
  {
    name: "NODE_FRAME_RATE",
    secret: false,
    default: "20",
    description:
      "Frames per second an agent connection may send on average (a token bucket per connection); past it, and past the burst, the socket is closed with 1008 and the event logged.",
  },
  {
    name: "NODE_FRAME_BURST",
    secret: false,
    default: "200",
    description: "Frames an agent connection may send at once before `NODE_FRAME_RATE` applies.",
  },
  {
    name: "INVENTORY_REFRESH_NODES_PER_TICK",
    secret: false,
    default: "500",
    description:
      "Nodes a fleet inventory refresh asks per step (1–5000): the request asks the first batch, the cron one more batch a minute, so 10,000 nodes take about 20 minutes and no invocation passes its subrequest limit. Nodes unreachable for over two minutes are counted offline at once, without asking.",
  },
  {
    name: "NODE_STATUS_MIN_INTERVAL_SECONDS",
    secret: false,
    default: "30",
    description:
      "Least time between two flips of a node between `healthy` and `unhealthy`; a flip back sooner waits for a heartbeat after it (each flip writes a status row, an event and webhooks).",
  },
  {
    name: "STREAM_MAX_SUBSCRIBERS_PER_NODE",
    secret: false,
    default: "50",
    description:
      "Live-output streams (`GET /api/v1/command_executions/{id}/stream`) open at once per node; past it a new stream gets 503.",
  },
  {
    name: "STREAM_MAX_LIFETIME_SECONDS",
    secret: false,
    default: "3600",
    description: "A live-output stream is closed after this long, even if its execution has not ended.",
  },
  {
    name: "METRICS_DETAIL_INTERVAL_SECONDS",
    secret: false,
    default: "60",
    description:
      "How often agents collect the detail metrics (top processes, containers, systemd services, GPU); sent to each agent in its `config` (10–86400).",
  },
  {
    name: "NODE_RPC_TIMEOUT_SECONDS",
    secret: false,
    default: "15",
    description:
      "How long a request that reaches into a node (processes, logs, files) waits for the agent's answer; past it the answer is 503 with `details.reason` `agent_timeout`.",
  },
  {
    name: "FILE_TRANSFER_MAX_BYTES",
    secret: false,
    default: "104857600",
    description: "Largest file a node file download or upload may move (past it 413); at most 500 MiB.",
  },

  {
    name: "WEBHOOK_ALLOW_PRIVATE_IPS",
    secret: false,
    default: "false",
    description:
      "`true` lets webhooks target loopback, private (RFC 1918), link-local, CGNAT, unique-local and cloud-metadata addresses (refused by the SSRF check otherwise).",
  },
  {
    name: "WEBHOOK_MAX_ATTEMPTS",
    secret: false,
    default: "3",
    description:
      "HTTP attempts per webhook delivery (with exponential backoff) before it is marked `failed`.",
  },
  {
    name: "AUDIT_SIGNING_KEY",
    secret: true,
    description:
      "Key of the audit log's HMAC-SHA256 signatures (any string). Without it events are still hash-chained, but `GET /api/v1/audit_events/{id}/verify` answers `available: false`.",
  },
  {
    name: "AUTH_CACHE_SECONDS",
    secret: false,
    default: "5",
    description:
      "How long each Worker isolate keeps a resolved session or API token (0 = off). A revocation, disable, password or role change takes effect at once in the isolate that made it and within this many seconds everywhere else.",
  },
  {
    name: "AUDIT_RETENTION_DAYS",
    secret: false,
    default: "365",
    description:
      "Audit events older than this are pruned by the cron; the hash of the last pruned event is kept as a checkpoint so the chain stays verifiable.",
  },
  { name: "NODE_HTTP_PORT", secret: false, default: "44000", description: "`http_port` reported for nodes." },
  {
    name: "NODE_HTTP_PROXY_PORT",
    secret: false,
    default: "44880",
    description: "`http_proxy_port` reported for nodes.",
  },
  {
    name: "NODE_SOCKS5_PROXY_PORT",
    secret: false,
    default: "44180",
    description: "`socks5_proxy_port` reported for nodes.",
  },
  { name: "NODE_SSH_PORT", secret: false, default: "42222", description: "`ssh_port` reported for nodes." },
  {
    name: "NODE_HOST_METRICS_PORT",
    secret: false,
    default: "49100",
    description: "`host_metrics_port` reported for nodes.",
  },
  {
    name: "NODE_WIREGUARD_METRICS_PORT",
    secret: false,
    default: "49586",
    description: "`wireguard_metrics_port` reported for nodes.",
  },
  {
    name: "RATE_LIMIT_ENROLL_PER_MINUTE",
    secret: false,
    default: "60",
    description:
      "Enrolments (`POST /agent/v1/enroll`, registration polls included) per client IP per minute and Cloudflare location; past it 429 `rate_limited`. Counted in steps of 10 by the `ENROLL_RATE_LIMITER` binding; `0` turns the limit off.",
  },
  {
    name: "RATE_LIMIT_PUBLIC_KEY_PER_MINUTE",
    secret: false,
    default: "10",
    description:
      "Calls of the public enrollment-key endpoint per client IP per minute (binding `PUBLIC_KEY_RATE_LIMITER`, steps of 10; `0` = off).",
  },
  {
    name: "RATE_LIMIT_AUTH_FAILURES_PER_MINUTE",
    secret: false,
    default: "20",
    description:
      "Failed API authentications per client (its IP: the only principal an unauthenticated request has) per minute; past it they answer 429 instead of 401 (binding `AUTH_FAILURE_RATE_LIMITER`, steps of 10; `0` = off).",
  },
  {
    name: "RATE_LIMIT_SSH_PASSWORD_PER_MINUTE",
    secret: false,
    default: "10",
    description:
      "SSH password checks (`/agent/v1/ssh/verify_password`) per node and username per minute, counted before the Argon2 work; past it 429 with `Retry-After: 60` (binding `SSH_PASSWORD_RATE_LIMITER`, steps of 10; `0` = off).",
  },
  {
    name: "PUBLIC_ENROLLMENT_KEY_TTL_SECONDS",
    secret: false,
    default: "3600",
    description: "Keys minted by the public enrollment-key endpoint expire after this many seconds.",
  },
  {
    name: "PUBLIC_ENROLLMENT_KEY_MAX_OUTSTANDING",
    secret: false,
    default: "100",
    description:
      "At most this many unused, unexpired public keys exist; the public endpoint answers 429 past it.",
  },
  {
    name: "ENROLLMENT_KEY_RETENTION_DAYS",
    secret: false,
    default: "7",
    description:
      "The cron deletes expired and spent enrollment keys (of any kind) this many days after they ended.",
  },
];
