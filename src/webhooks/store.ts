import { count, eq } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { encryptSecret } from "../crypto/secrets";
import type { Database } from "../db/client";
import { webhooks } from "../db/schema";
import { ApiError } from "../errors";
import type { ListQuery } from "../list-query/engine";
import { listPage, type Page } from "../list-query/page";
import type { WebhookCreateInput } from "./schema";
import { webhookUrlDenial } from "./ssrf";

export type WebhookRow = typeof webhooks.$inferSelect;

/** The settings a new webhook is checked and encrypted with (from the Worker's config). */
export interface WebhookSecrets {
  encryptionKey: string;
  /** WEBHOOK_ALLOW_PRIVATE_IPS: lets URLs on private networks through the SSRF check. */
  allowPrivateIps: boolean;
}

/** The webhook with this id, or a 404. */
export async function getWebhook(db: Database, id: string): Promise<WebhookRow> {
  const [row] = await db.select().from(webhooks).where(eq(webhooks.id, id)).limit(1);
  if (!row) throw new ApiError("not_found", "Webhook not found");
  return row;
}

/**
 * Creates a webhook after the SSRF check (422 on `url`); the secret and the
 * headers are stored AES-GCM encrypted under ENCRYPTION_KEY.
 */
export async function createWebhook(
  db: Database,
  settings: WebhookSecrets,
  input: WebhookCreateInput,
): Promise<WebhookRow> {
  const denial = webhookUrlDenial(input.url, settings.allowPrivateIps);
  if (denial) throw new ApiError("validation_failed", "Validation failed", { url: [denial] });
  const headers = input.headers && Object.keys(input.headers).length > 0 ? input.headers : null;
  const now = Date.now();
  const row: WebhookRow = {
    id: crypto.randomUUID(),
    url: input.url,
    secretCiphertext: await encryptSecret(input.secret, settings.encryptionKey),
    headersCiphertext: headers ? await encryptSecret(JSON.stringify(headers), settings.encryptionKey) : null,
    subscribedEvents: JSON.stringify(input.subscribed_events),
    insertedAt: now,
    updatedAt: now,
  };
  await db.insert(webhooks).values(row);
  return row;
}

/** Deletes a webhook (its deliveries go with it), or a 404 when there is none. */
export async function deleteWebhook(
  db: Database,
  id: string,
  audit: BatchItem<"sqlite">[] = [],
): Promise<void> {
  const [deleted] = await db.batch([
    db.delete(webhooks).where(eq(webhooks.id, id)).returning({ id: webhooks.id }),
    ...audit,
  ]);
  if (deleted.length === 0) throw new ApiError("not_found", "Webhook not found");
}

/** One page of webhooks by `webhookListSpec`. */
export function listWebhooks(db: Database, q: ListQuery): Promise<Page<WebhookRow>> {
  return listPage(db, q, db.select().from(webhooks), db.select({ total: count() }).from(webhooks));
}
