import { sql } from "drizzle-orm";
import { type Config, type Env, loadConfig } from "../../src/config";
import { decryptSecret } from "../../src/crypto/secrets";
import { createDatabase, type Database } from "../../src/db/client";
import { webhookDeliveries as d, events, webhookDeliveryAttempts, webhooks } from "../../src/db/schema";
import { createLogger } from "../../src/log";
import { OUTPOST_VERSION } from "../../src/version";
import { SIGNATURE_HEADER, signWebhook } from "../../src/webhooks/signature";
import { webhookUrlDenial } from "../../src/webhooks/ssrf";
import { postOnce } from "./post-once";
import { FAN_OUT_EVENTS, fanOutEvents } from "./webhook-fanout";

const log = createLogger({ fields: { service: "webhook-dispatch" } });

/** Deliveries claimed and sent per dispatch run. */
const DELIVERY_BATCH = 20;
/** Fan-out rounds per run while the outbox still has a full batch waiting. */
const FAN_OUT_ROUNDS = 3;
const DELIVERY_TIMEOUT_MS = 10_000;
/** A claim older than this is taken to be lost (the runner died mid-attempt) and may be retried. */
const CLAIM_LEASE_MS = 60_000;
const RETRY_BASE_MS = 30_000;
const RETRY_CAP_MS = 60 * 60_000;

export interface DispatchOptions {
  /** Clock, injectable for tests. */
  now?: () => number;
  /** Delay before retry number `attempt + 1` after attempt `attempt` failed. */
  retryDelayMs?: (attempt: number) => number;
  timeoutMs?: number;
  deliveryBatch?: number;
}

export interface DispatchResult {
  fanned_out: number;
  deliveries_created: number;
  attempted: number;
  succeeded: number;
  retrying: number;
  failed: number;
}

/**
 * Exponential backoff with jitter: 30 s, 60 s, 120 s … (capped at one hour),
 * each drawn uniformly from the upper half of its step.
 */
export function retryDelayMs(attempt: number, random = Math.random): number {
  const step = Math.min(RETRY_BASE_MS * 2 ** Math.max(0, attempt - 1), RETRY_CAP_MS);
  return Math.round(step / 2 + (random() * step) / 2);
}

interface Claimed {
  id: string;
  attempts: number;
  event_id: string;
  event_type: string;
  occurred_at: number;
  data: string;
  url: string;
  secret_ciphertext: string;
  headers_ciphertext: string | null;
}

interface Outcome {
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  /** No retry can help (e.g. the URL is now denied, the secret can't be decrypted). */
  terminal?: boolean;
}

/** The JSON body of an event's deliveries: `{id, type, occurred_at, data}`. */
function eventBody(event: { id: string; type: string; occurredAt: number; data: string }): string {
  return JSON.stringify({
    id: event.id,
    type: event.type,
    occurred_at: new Date(event.occurredAt).toISOString(),
    data: JSON.parse(event.data),
  });
}

async function send(config: Config, row: Claimed, timeoutMs: number): Promise<Outcome> {
  const denial = webhookUrlDenial(row.url, config.webhookAllowPrivateIps);
  if (denial) return { statusCode: null, error: `url ${denial}`, durationMs: 0, terminal: true };
  let secret: string;
  let custom: Record<string, string> = {};
  try {
    secret = await decryptSecret(row.secret_ciphertext, config.encryptionKey);
    if (row.headers_ciphertext)
      custom = JSON.parse(await decryptSecret(row.headers_ciphertext, config.encryptionKey));
  } catch {
    return {
      statusCode: null,
      error: "cannot decrypt the webhook's secret or headers",
      durationMs: 0,
      terminal: true,
    };
  }
  const body = eventBody({
    id: row.event_id,
    type: row.event_type,
    occurredAt: row.occurred_at,
    data: row.data,
  });
  const headers = new Headers(custom);
  headers.set("content-type", "application/json");
  if (!headers.has("user-agent")) headers.set("user-agent", `Outpost-Webhooks/${OUTPOST_VERSION}`);
  headers.set("X-Edge-Event", row.event_type);
  headers.set("X-Edge-Delivery", row.id);
  headers.set(SIGNATURE_HEADER, await signWebhook(secret, body));
  return postOnce(row.url, headers, body, timeoutMs);
}

/**
 * Claims due deliveries with one conditional UPDATE (attempt counter + a lease in
 * `next_attempt_at`), so concurrent runners never send the same attempt twice.
 * Deliveries whose last allowed attempt never reported back are failed first.
 */
async function claimDue(db: Database, max: number, now: number, limit: number): Promise<Claimed[]> {
  const due = sql`status = 'pending' AND next_attempt_at <= ${now}`;
  const [, claimed] = await db.batch([
    db.run(sql`UPDATE ${d} SET status = 'failed', next_attempt_at = NULL, updated_at = ${now},
                 last_error = coalesce(last_error, 'the last attempt did not report a result')
               WHERE ${due} AND attempts >= ${max}`),
    db.all<{ id: string; attempts: number }>(sql`UPDATE ${d} SET attempts = attempts + 1,
                 next_attempt_at = ${now + CLAIM_LEASE_MS}, updated_at = ${now}
               WHERE id IN (SELECT id FROM ${d} WHERE ${due} AND attempts < ${max}
                            ORDER BY next_attempt_at, id LIMIT ${limit})
                 AND ${due} AND attempts < ${max}
               RETURNING id, attempts`),
  ]);
  const rows = claimed as unknown as { id: string; attempts: number }[];
  if (rows.length === 0) return [];
  const details = await db.all<Omit<Claimed, "attempts">>(sql`
    SELECT dl.id, e.id AS event_id, e.type AS event_type, e.occurred_at, e.data,
           w.url, w.secret_ciphertext, w.headers_ciphertext
      FROM ${d} dl JOIN ${events} e ON e.id = dl.event_id JOIN ${webhooks} w ON w.id = dl.webhook_id
     WHERE dl.id IN (${sql.join(
       rows.map((r) => sql`${r.id}`),
       sql`, `,
     )})`);
  const attempts = new Map(rows.map((r) => [r.id, r.attempts]));
  // Every detail row comes from a claimed id, so each has its attempt count.
  return details.flatMap((row) => {
    const count = attempts.get(row.id);
    return count === undefined ? [] : [{ ...row, attempts: count }];
  });
}

function recordStatements(
  db: Database,
  row: Claimed,
  outcome: Outcome,
  lease: number,
  max: number,
  now: number,
  delay: (attempt: number) => number,
) {
  const succeeded = outcome.error === null;
  const final = succeeded || outcome.terminal || row.attempts >= max;
  const status = succeeded ? "succeeded" : final ? "failed" : "pending";
  const next = final ? null : now + delay(row.attempts);
  return [
    // Written even when the delivery was redelivered meanwhile (history); skipped when it was deleted.
    db.run(sql`INSERT INTO ${webhookDeliveryAttempts} (id, delivery_id, attempt, status_code, duration_ms, error, attempted_at)
      SELECT ${crypto.randomUUID()}, ${row.id}, ${row.attempts}, ${outcome.statusCode}, ${outcome.durationMs},
             ${outcome.error}, ${now}
       WHERE EXISTS (SELECT 1 FROM ${d} WHERE id = ${row.id})`),
    // Only the holder of this claim may settle it (a redeliver or a newer claim changed the token).
    db.run(sql`UPDATE ${d} SET status = ${status}, next_attempt_at = ${next}, last_status_code = ${outcome.statusCode},
                 last_error = ${outcome.error}, updated_at = ${now}
               WHERE id = ${row.id} AND attempts = ${row.attempts} AND next_attempt_at = ${lease}`),
  ];
}

/**
 * One dispatch run: fans out waiting outbox events to subscribed webhooks, then
 * claims and POSTs due deliveries (signed, 10 s timeout), recording every
 * attempt and scheduling retries with backoff until WEBHOOK_MAX_ATTEMPTS.
 * Events stay in the outbox whatever happens to their deliveries.
 * @example await runWebhookDispatch(env, { retryDelayMs: () => 0 })
 */
export async function runWebhookDispatch(env: Env, options: DispatchOptions = {}): Promise<DispatchResult> {
  const config = loadConfig(env);
  const db = createDatabase({ url: config.libsqlUrl, authToken: config.libsqlAuthToken });
  const clock = options.now ?? Date.now;
  const result: DispatchResult = {
    fanned_out: 0,
    deliveries_created: 0,
    attempted: 0,
    succeeded: 0,
    retrying: 0,
    failed: 0,
  };
  for (let round = 0; round < FAN_OUT_ROUNDS; round++) {
    const fanned = await fanOutEvents(db, clock());
    result.fanned_out += fanned.events;
    result.deliveries_created += fanned.deliveries;
    if (fanned.events < FAN_OUT_EVENTS) break;
  }

  const max = config.webhookMaxAttempts;
  const claimedAt = clock();
  const claimed = await claimDue(db, max, claimedAt, options.deliveryBatch ?? DELIVERY_BATCH);
  if (claimed.length === 0) return result;
  const outcomes = await Promise.all(
    claimed.map((row) => send(config, row, options.timeoutMs ?? DELIVERY_TIMEOUT_MS)),
  );
  const now = clock();
  const delay = options.retryDelayMs ?? ((attempt: number) => retryDelayMs(attempt));
  const statements = claimed.flatMap((row, i) =>
    recordStatements(db, row, outcomes[i], claimedAt + CLAIM_LEASE_MS, max, now, delay),
  );
  // One statement pair per claimed row, and there was at least one row.
  const [first, ...rest] = statements;
  await db.batch([first, ...rest]);
  for (const [i, row] of claimed.entries()) {
    result.attempted++;
    if (outcomes[i].error === null) result.succeeded++;
    else if (outcomes[i].terminal || row.attempts >= max) result.failed++;
    else result.retrying++;
  }
  return result;
}

// One immediate dispatch at a time per isolate: a burst of writes (a fleet enrolling) would
// otherwise start one dispatch each, and their write batches queue on the database's write lock
// behind each other and behind the writes they follow. A write arriving meanwhile asks the running
// dispatch for one more pass; the cron and the leased claims keep delivery correct either way.
// A start time, not a flag: a `waitUntil` task that workerd cancels never reaches `finally`, and
// a stuck flag would stop immediate dispatch in this isolate for good.
let dispatchStartedAt = 0;
let dispatchAgain = false;
const DISPATCH_STALE_MS = 60_000;

async function dispatchOnce(env: Env): Promise<void> {
  const config = loadConfig(env);
  const db = createDatabase({ url: config.libsqlUrl, authToken: config.libsqlAuthToken });
  // Without any webhook there is nothing to deliver now; the cron marks the events fanned out.
  const [someWebhook] = await db.select({ id: webhooks.id }).from(webhooks).limit(1);
  if (someWebhook) await runWebhookDispatch(env);
}

/** Runs a dispatch after the response is sent (`waitUntil`); failures are logged and left to the cron. */
export function processOutboxSoon(env: Env, ctx: { waitUntil(promise: Promise<unknown>): void }): void {
  if (Date.now() - dispatchStartedAt < DISPATCH_STALE_MS) {
    dispatchAgain = true;
    return;
  }
  const startedAt = Date.now();
  dispatchStartedAt = startedAt;
  ctx.waitUntil(
    (async () => {
      try {
        do {
          dispatchAgain = false;
          await dispatchOnce(env);
        } while (dispatchAgain);
      } catch (err) {
        log.warn("webhook dispatch failed", { error: err });
      } finally {
        if (dispatchStartedAt === startedAt) dispatchStartedAt = 0;
      }
    })(),
  );
}
