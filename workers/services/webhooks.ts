import { eq } from "drizzle-orm";
import { encryptSecret } from "../../src/crypto/secrets";
import type { Database } from "../../src/db/client";
import { webhooks } from "../../src/db/schema";
import type { EventType } from "../../src/events/catalog";
import { isoSeconds } from "../../src/time";
import { webhookUrlDenial } from "../../src/webhooks/ssrf";
import type { Config } from "../env";
import { ApiError } from "../errors";

export type WebhookRow = typeof webhooks.$inferSelect;

export interface WebhookInput {
  url: string;
  secret: string;
  headers?: Record<string, string>;
  subscribed_events: EventType[];
}

/** The public view of a webhook: secret and headers are write-only and never leave the server. */
export function presentWebhook(row: WebhookRow) {
  return {
    id: row.id,
    inserted_at: isoSeconds(row.insertedAt),
    subscribed_events: JSON.parse(row.subscribedEvents) as string[],
    updated_at: isoSeconds(row.updatedAt),
    url: row.url,
  };
}

/** Loads a webhook or throws 404. */
export async function getWebhook(db: Database, id: string): Promise<WebhookRow> {
  const [row] = await db.select().from(webhooks).where(eq(webhooks.id, id)).limit(1);
  if (!row) throw new ApiError("not_found", "Webhook not found");
  return row;
}

/**
 * Creates a webhook after the SSRF check (422 on `url`); the secret and the
 * headers are stored AES-GCM encrypted under ENCRYPTION_KEY.
 */
export async function createWebhook(db: Database, config: Config, input: WebhookInput): Promise<WebhookRow> {
  const denial = webhookUrlDenial(input.url, config.webhookAllowPrivateIps);
  if (denial) throw new ApiError("validation_failed", "Validation failed", { url: [denial] });
  const headers = input.headers && Object.keys(input.headers).length > 0 ? input.headers : null;
  const now = Date.now();
  const row: WebhookRow = {
    id: crypto.randomUUID(),
    url: input.url,
    secretCiphertext: await encryptSecret(input.secret, config.encryptionKey),
    headersCiphertext: headers ? await encryptSecret(JSON.stringify(headers), config.encryptionKey) : null,
    subscribedEvents: JSON.stringify(input.subscribed_events),
    insertedAt: now,
    updatedAt: now,
  };
  await db.insert(webhooks).values(row);
  return row;
}
