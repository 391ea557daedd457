import { eq, inArray, sql } from "drizzle-orm";
import { type Config, type Env, loadConfig } from "../../src/config";
import { createDatabase, type Database } from "../../src/db/client";
import { notificationDeliveries as d, notificationChannels } from "../../src/db/schema";
import { createLogger } from "../../src/log";
import { type NotificationDeliveryRow, newDelivery } from "../../src/notification-channels/deliveries";
import type { WaitUntil } from "../../src/notification-channels/prompt";
import { type NotificationContext, renderNotification } from "../../src/notification-channels/render";
import type { ChannelType } from "../../src/notification-channels/schema";
import { channelSettings, type NotificationChannelRow } from "../../src/notification-channels/store";
import { OUTPOST_VERSION } from "../../src/version";
import { SIGNATURE_HEADER, signWebhook } from "../../src/webhooks/signature";
import { webhookUrlDenial } from "../../src/webhooks/ssrf";
import { fanOutNotifications, NOTIFY_EVENTS, repeatNotifications } from "./notification-fanout";
import { postOnce } from "./post-once";
import { retryDelayMs } from "./webhook-dispatch";

const DELIVERY_BATCH = 20;
const FAN_OUT_ROUNDS = 3;
const DELIVERY_TIMEOUT_MS = 10_000;
/** A claim older than this is taken to be lost (the runner died mid-attempt) and may be retried. */
const CLAIM_LEASE_MS = 60_000;

export interface NotificationRunOptions {
  now?: () => number;
  retryDelayMs?: (attempt: number) => number;
  timeoutMs?: number;
}

interface Outcome {
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  /** No retry can help (the URL is now denied, the settings can't be decrypted). */
  terminal?: boolean;
}

/** Renders and POSTs one delivery to its channel: SSRF-checked, redirects not followed, signed for `webhook`. */
export async function sendNotification(
  config: Config,
  channel: NotificationChannelRow,
  delivery: Pick<NotificationDeliveryRow, "id" | "data" | "eventType">,
  timeoutMs = DELIVERY_TIMEOUT_MS,
): Promise<Outcome> {
  let settings: Record<string, unknown>;
  try {
    settings = await channelSettings(channel, config.encryptionKey);
  } catch {
    return {
      statusCode: null,
      error: "cannot decrypt the channel's settings",
      durationMs: 0,
      terminal: true,
    };
  }
  const type = channel.type as ChannelType;
  const req = renderNotification(type, settings, JSON.parse(delivery.data) as NotificationContext);
  const denial = webhookUrlDenial(req.url, config.webhookAllowPrivateIps);
  if (denial) return { statusCode: null, error: `url ${denial}`, durationMs: 0, terminal: true };
  const headers = new Headers(req.headers);
  headers.set("user-agent", `Outpost-Notifications/${OUTPOST_VERSION}`);
  if (type === "webhook") {
    headers.set("X-Edge-Event", delivery.eventType);
    headers.set("X-Edge-Delivery", delivery.id);
    headers.set(SIGNATURE_HEADER, await signWebhook(String(settings.secret), req.body));
  }
  return postOnce(req.url, headers, req.body, timeoutMs);
}

async function claimDue(db: Database, max: number, now: number) {
  const due = sql`status = 'pending' AND next_attempt_at <= ${now}`;
  const [, claimed] = await db.batch([
    db.run(sql`UPDATE ${d} SET status = 'failed', next_attempt_at = NULL, updated_at = ${now},
                 last_error = coalesce(last_error, 'the last attempt did not report a result')
               WHERE ${due} AND attempts >= ${max}`),
    db.all<{
      id: string;
    }>(sql`UPDATE ${d} SET attempts = attempts + 1, next_attempt_at = ${now + CLAIM_LEASE_MS}, updated_at = ${now}
               WHERE id IN (SELECT id FROM ${d} WHERE ${due} AND attempts < ${max} ORDER BY next_attempt_at, id LIMIT ${DELIVERY_BATCH})
                 AND ${due} AND attempts < ${max}
               RETURNING id`),
  ]);
  const ids = (claimed as unknown as { id: string }[]).map((r) => r.id);
  if (ids.length === 0) return [];
  return db.select().from(d).where(inArray(d.id, ids));
}

function settle(
  db: Database,
  row: NotificationDeliveryRow,
  outcome: Outcome,
  max: number,
  now: number,
  delay: (n: number) => number,
) {
  const succeeded = outcome.error === null;
  const final = succeeded || outcome.terminal || row.attempts >= max;
  const status = succeeded ? "succeeded" : final ? "failed" : "pending";
  return db.run(sql`UPDATE ${d} SET status = ${status}, next_attempt_at = ${final ? null : now + delay(row.attempts)},
      last_status_code = ${outcome.statusCode}, last_error = ${outcome.error}, last_duration_ms = ${outcome.durationMs},
      updated_at = ${now}
    WHERE id = ${row.id} AND attempts = ${row.attempts} AND next_attempt_at = ${row.nextAttemptAt}`);
}

/**
 * One notification run (each cron tick): fan out new outbox events to channels, queue repeats,
 * then claim due deliveries and POST them (leased claims, retried with the webhooks' backoff until
 * WEBHOOK_MAX_ATTEMPTS, each outcome recorded on the delivery).
 */
export async function runNotifications(env: Env, options: NotificationRunOptions = {}) {
  const config = loadConfig(env);
  const db = createDatabase({ url: config.libsqlUrl, authToken: config.libsqlAuthToken });
  const clock = options.now ?? Date.now;
  const result = { events: 0, deliveries_created: 0, repeats: 0, attempted: 0, succeeded: 0, failed: 0 };
  for (let round = 0; round < FAN_OUT_ROUNDS; round++) {
    const fanned = await fanOutNotifications(db, clock());
    result.events += fanned.events;
    result.deliveries_created += fanned.deliveries;
    if (fanned.events < NOTIFY_EVENTS) break;
  }
  const repeated = await repeatNotifications(db, clock());
  result.repeats = repeated.alerts;
  result.deliveries_created += repeated.deliveries;

  const max = config.webhookMaxAttempts;
  const claimed = await claimDue(db, max, clock());
  if (claimed.length === 0) return result;
  const channelRows = await db
    .select()
    .from(notificationChannels)
    .where(inArray(notificationChannels.id, [...new Set(claimed.map((c) => c.channelId))]));
  const byId = new Map(channelRows.map((c) => [c.id, c]));
  const outcomes = await Promise.all(
    claimed.map((row) => {
      const channel = byId.get(row.channelId);
      return channel
        ? sendNotification(config, channel, row, options.timeoutMs)
        : Promise.resolve<Outcome>({
            statusCode: null,
            error: "channel deleted",
            durationMs: 0,
            terminal: true,
          });
    }),
  );
  const now = clock();
  const delay = options.retryDelayMs ?? ((attempt: number) => retryDelayMs(attempt));
  const [first, ...rest] = claimed.map((row, i) => settle(db, row, outcomes[i], max, now, delay));
  await db.batch([first, ...rest]);
  for (const [i, row] of claimed.entries()) {
    result.attempted++;
    if (outcomes[i].error === null) result.succeeded++;
    else if (outcomes[i].terminal || row.attempts >= max) result.failed++;
  }
  return result;
}

// One prompt run at a time per isolate: alerts that fire together (a fleet crossing one threshold)
// ask the running pass for one more instead of racing it for the same rows. A start time, not a
// flag: a `waitUntil` task that workerd cancels never reaches `finally`.
let promptStartedAt = 0;
let promptAgain = false;
const PROMPT_STALE_MS = 60_000;
const log = createLogger({ fields: { service: "notification-dispatch" } });

/**
 * A notification run started now, after the caller returns (a session that recorded an alert);
 * failures are logged and left to the cron, which runs the same idempotent steps.
 */
export function runNotificationsSoon(env: Env, waitUntil: WaitUntil, onlyIfChannels = false): void {
  if (Date.now() - promptStartedAt < PROMPT_STALE_MS) {
    promptAgain = true;
    return;
  }
  const startedAt = Date.now();
  promptStartedAt = startedAt;
  waitUntil(
    (async () => {
      try {
        if (onlyIfChannels && !(await anyEnabledChannel(env))) return;
        do {
          promptAgain = false;
          await runNotifications(env);
        } while (promptAgain);
      } catch (error) {
        log.warn("prompt notification run failed", { error });
      } finally {
        if (promptStartedAt === startedAt) promptStartedAt = 0;
      }
    })(),
  );
}

// Most fleets have no channel: a write then costs one indexed read, not a notification run.
async function anyEnabledChannel(env: Env): Promise<boolean> {
  const config = loadConfig(env);
  const db = createDatabase({ url: config.libsqlUrl, authToken: config.libsqlAuthToken });
  const [row] = await db
    .select({ id: notificationChannels.id })
    .from(notificationChannels)
    .where(eq(notificationChannels.enabled, true))
    .limit(1);
  return row !== undefined;
}

/** `POST …/test`: a sample alert notification sent now, once, and recorded in the channel's history. */
export async function sendTestNotification(config: Config, db: Database, channel: NotificationChannelRow) {
  const now = Date.now();
  const ctx: NotificationContext = {
    event_id: null,
    event_type: "edge.alert.fired",
    reason: "test",
    occurred_at: new Date(now).toISOString(),
    alert: {
      id: "00000000-0000-4000-8000-000000000000",
      rule_id: "00000000-0000-4000-8000-000000000000",
      rule_name: `Test notification for ${channel.name}`,
      node_id: "00000000-0000-4000-8000-000000000000",
      hostname: "outpost-test",
      cluster_name: null,
      metric: "cpu",
      level: "warning",
      status: "firing",
      value: 0,
      threshold: 0,
      started_at: new Date(now).toISOString(),
    },
  };
  const row = { ...newDelivery(channel.id, ctx, now, null), attempts: 1, nextAttemptAt: null };
  const outcome = await sendNotification(config, channel, row);
  const settled: NotificationDeliveryRow = {
    ...row,
    status: outcome.error === null ? "succeeded" : "failed",
    lastStatusCode: outcome.statusCode,
    lastError: outcome.error,
    lastDurationMs: outcome.durationMs,
    updatedAt: Date.now(),
  };
  await db.insert(d).values(settled);
  return settled;
}
