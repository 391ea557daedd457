import { count, eq } from "drizzle-orm";
import * as v from "valibot";
import { decryptSecret, encryptSecret } from "../crypto/secrets";
import type { Database } from "../db/client";
import { notificationChannels } from "../db/schema";
import { ApiError, issuesToDetails } from "../errors";
import type { ListQuery } from "../list-query/engine";
import { listPage, type Page } from "../list-query/page";
import { webhookUrlDenial } from "../webhooks/ssrf";
import { fillTemplate, type NotificationContext } from "./render";
import {
  CHANNEL_CONFIGS,
  type ChannelType,
  type NotificationChannelCreateInput,
  type NotificationChannelUpdateInput,
  URL_FIELDS,
} from "./schema";

export type NotificationChannelRow = typeof notificationChannels.$inferSelect;

/** The Worker settings a channel's secrets and URLs are handled with. */
export interface ChannelSecrets {
  encryptionKey: string;
  /** WEBHOOK_ALLOW_PRIVATE_IPS: lets URLs on private networks through the SSRF check. */
  allowPrivateIps: boolean;
}

const SAMPLE: NotificationContext = {
  event_id: "00000000-0000-4000-8000-000000000000",
  event_type: "edge.alert.fired",
  reason: "test",
  occurred_at: "2026-01-01T00:00:00Z",
};

function invalid(details: Record<string, string[]>): never {
  throw new ApiError("validation_failed", "Validation failed", details);
}

/** Checks a whole settings object against its type (422 on `config.<key>`), then URLs and template. */
export function checkSettings(
  type: ChannelType,
  raw: Record<string, unknown>,
  allowPrivateIps: boolean,
): Record<string, unknown> {
  const parsed = v.safeParse(CHANNEL_CONFIGS[type].schema, raw);
  if (!parsed.success) {
    const details = issuesToDetails(parsed.issues);
    invalid(
      Object.fromEntries(
        Object.entries(details).map(([k, m]) => [`config${k === "body" ? "" : `.${k}`}`, m]),
      ),
    );
  }
  const settings = parsed.output as Record<string, unknown>;
  for (const field of URL_FIELDS) {
    const url = settings[field];
    if (typeof url !== "string") continue;
    const denial = webhookUrlDenial(url, allowPrivateIps);
    if (denial) invalid({ [`config.${field}`]: [denial] });
  }
  if (typeof settings.body_template === "string") {
    try {
      JSON.parse(fillTemplate(settings.body_template, SAMPLE));
    } catch {
      invalid({ "config.body_template": ["must render to JSON (placeholders are filled inside strings)"] });
    }
  }
  return settings;
}

function split(type: ChannelType, settings: Record<string, unknown>) {
  const secretKeys: readonly string[] = CHANNEL_CONFIGS[type].secret;
  const pub: Record<string, unknown> = {};
  const secret: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(settings)) (secretKeys.includes(k) ? secret : pub)[k] = val;
  return { pub, secret };
}

/** The channel with this id, or a 404. */
export async function getNotificationChannel(db: Database, id: string): Promise<NotificationChannelRow> {
  const [row] = await db.select().from(notificationChannels).where(eq(notificationChannels.id, id)).limit(1);
  if (!row) throw new ApiError("not_found", "Notification channel not found");
  return row;
}

/** A channel's whole settings: the public ones and the decrypted secret ones. */
export async function channelSettings(row: NotificationChannelRow, encryptionKey: string) {
  const secret = JSON.parse(await decryptSecret(row.secretsCiphertext, encryptionKey)) as Record<
    string,
    unknown
  >;
  return { ...(JSON.parse(row.config) as Record<string, unknown>), ...secret };
}

/** Creates a channel: settings checked for its type, URLs SSRF-checked, secrets encrypted. */
export async function createNotificationChannel(
  db: Database,
  keys: ChannelSecrets,
  input: NotificationChannelCreateInput,
): Promise<NotificationChannelRow> {
  const settings = checkSettings(input.type, input.config, keys.allowPrivateIps);
  const { pub, secret } = split(input.type, settings);
  const now = Date.now();
  const row: NotificationChannelRow = {
    id: crypto.randomUUID(),
    name: input.name,
    type: input.type,
    config: JSON.stringify(pub),
    secretsCiphertext: await encryptSecret(JSON.stringify(secret), keys.encryptionKey),
    subscribedEvents: JSON.stringify(input.subscribed_events),
    enabled: input.enabled,
    insertedAt: now,
    updatedAt: now,
  };
  await db.insert(notificationChannels).values(row);
  return row;
}

/** Updates a channel; `config` keys merge into the stored settings (secrets too) and the whole is checked again. */
export async function updateNotificationChannel(
  db: Database,
  keys: ChannelSecrets,
  id: string,
  patch: NotificationChannelUpdateInput,
): Promise<NotificationChannelRow> {
  const current = await getNotificationChannel(db, id);
  const type = current.type as ChannelType;
  let config: string | undefined;
  let secretsCiphertext: string | undefined;
  if (patch.config) {
    const merged = { ...(await channelSettings(current, keys.encryptionKey)), ...patch.config };
    for (const [k, val] of Object.entries(patch.config)) if (val === null) delete merged[k];
    const { pub, secret } = split(type, checkSettings(type, merged, keys.allowPrivateIps));
    config = JSON.stringify(pub);
    secretsCiphertext = await encryptSecret(JSON.stringify(secret), keys.encryptionKey);
  }
  const [row] = await db
    .update(notificationChannels)
    .set({
      name: patch.name,
      enabled: patch.enabled,
      subscribedEvents: patch.subscribed_events ? JSON.stringify(patch.subscribed_events) : undefined,
      config,
      secretsCiphertext,
      updatedAt: Math.max(Date.now(), current.updatedAt + 1),
    })
    .where(eq(notificationChannels.id, id))
    .returning();
  if (!row) throw new ApiError("not_found", "Notification channel not found");
  return row;
}

/** Deletes a channel and its delivery history, or a 404. */
export async function deleteNotificationChannel(db: Database, id: string): Promise<void> {
  const gone = await db
    .delete(notificationChannels)
    .where(eq(notificationChannels.id, id))
    .returning({ id: notificationChannels.id });
  if (gone.length === 0) throw new ApiError("not_found", "Notification channel not found");
}

/** One page of channels by `notificationChannelListSpec`. */
export function listNotificationChannels(db: Database, q: ListQuery): Promise<Page<NotificationChannelRow>> {
  return listPage(
    db,
    q,
    db.select().from(notificationChannels),
    db.select({ total: count() }).from(notificationChannels),
  );
}
