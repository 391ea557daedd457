import type { Hono } from "hono";
import { UuidParam } from "../../src/schemas/common";
import { deliveryListSpec } from "../../src/webhook-deliveries/list";
import { presentDeliveries } from "../../src/webhook-deliveries/present";
import { WebhookDeliverySchema } from "../../src/webhook-deliveries/schema";
import { listDeliveries, redeliver } from "../../src/webhook-deliveries/store";
import { webhookListSpec } from "../../src/webhooks/list";
import { presentWebhook } from "../../src/webhooks/present";
import { WebhookCreateRequest, WebhookSchema } from "../../src/webhooks/schema";
import { createWebhook, deleteWebhook, getWebhook, listWebhooks } from "../../src/webhooks/store";
import { auditInBatch } from "../audit/in-batch";
import { ApiError } from "../errors";
import { authenticate } from "../middleware/authenticate";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { listRoute } from "../openapi/list-route";

const TAG = "Events.Webhook";
const idParam = { id: { schema: UuidParam, description: "Webhook ID" } };

/** Registers webhook subscriptions and their delivery log (the Edge Admin contract: Events.Webhook). */
export function registerWebhookRoutes(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "post",
      path: "/api/v1/webhooks",
      permission: "webhooks:write",
      clusterScope: { refuse: true },
      tag: TAG,
      summary: "Create webhook",
      description:
        "Create a webhook subscription. The destination URL is validated against the SSRF deny list at create time. secret (HMAC signing key, >= 32 bytes) and headers are write-only — encrypted at rest and never returned in any GET response. subscribed_events is an explicit list of event types this webhook fires on; the full catalog is documented in the AsyncAPI spec.",
      body: WebhookCreateRequest,
      success: { status: 201, description: "Webhook created", data: WebhookSchema },
      errors: [422, 503],
    },
    async (c, { body }) => {
      const { encryptionKey, webhookAllowPrivateIps } = c.get("config");
      const row = await createWebhook(
        c.get("db"),
        { encryptionKey, allowPrivateIps: webhookAllowPrivateIps },
        body,
      );
      return { data: presentWebhook(row) };
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/webhooks",
      permission: "webhooks:read",
      clusterScope: { refuse: true },
      tag: TAG,
      summary: "List webhooks",
      description:
        "Returns a paginated list of webhook subscriptions. The full catalog of event types you can subscribe to is documented in the AsyncAPI spec.",
      list: webhookListSpec,
      success: {
        status: 200,
        description: "Paginated list of webhooks",
        data: WebhookSchema,
        paginated: true,
      },
    },
    listRoute({ page: listWebhooks, present: (rows) => rows.map(presentWebhook) }),
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/webhooks/{id}",
      permission: "webhooks:read",
      clusterScope: { refuse: true },
      tag: TAG,
      summary: "Get webhook",
      description: "Get a single webhook by ID.",
      params: idParam,
      success: { status: 200, description: "The webhook", data: WebhookSchema },
      errors: [404],
    },
    async (c, { params }) => ({ data: presentWebhook(await getWebhook(c.get("db"), params.id)) }),
  );

  defineRoute(
    app,
    {
      method: "delete",
      path: "/api/v1/webhooks/{id}",
      permission: "webhooks:write",
      clusterScope: { refuse: true },
      tag: TAG,
      summary: "Delete webhook",
      description:
        "Permanently delete a webhook (and its delivery log). Webhooks are immutable after create — to change any field (URL, secret, headers, subscribed_events) delete and recreate. The retry budget is process-wide (WEBHOOK_MAX_ATTEMPTS), not per-webhook.",
      params: idParam,
      success: { status: 204, description: "Deleted", data: null },
      errors: [404, 503],
    },
    async (c, { params }) => {
      const db = c.get("db");
      await deleteWebhook(db, params.id, [
        auditInBatch(c, db, "webhook.deleted", { type: "webhook", id: params.id, status: 204 }),
      ]);
      return undefined;
    },
  );

  // Immutable: a clear 405 in the envelope instead of a bare "no route".
  app.on(["PATCH", "PUT"], "/api/v1/webhooks/:id", async (c) => {
    await authenticate(c, { streamToken: false });
    c.header("allow", "GET, DELETE");
    throw new ApiError("method_not_allowed", "Webhooks are immutable; delete and recreate to change one");
  });

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/webhooks/{id}/deliveries",
      permission: "webhooks:read",
      clusterScope: { refuse: true },
      tag: TAG,
      summary: "List a webhook's deliveries",
      description:
        "One entry per event sent (or to be sent) to this webhook, newest first by default, each with its status and every HTTP attempt (status code, duration, error) oldest first.",
      params: idParam,
      list: deliveryListSpec,
      success: {
        status: 200,
        description: "Paginated deliveries",
        data: WebhookDeliverySchema,
        paginated: true,
      },
      errors: [404],
    },
    listRoute({
      page: listDeliveries,
      present: (rows, c) => presentDeliveries(c.get("db"), rows),
    }),
  );

  defineRoute(
    app,
    {
      method: "post",
      path: "/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver",
      permission: "webhooks:write",
      clusterScope: { refuse: true },
      tag: TAG,
      summary: "Redeliver",
      description:
        "Puts a delivery back to `pending`, due now, with a fresh WEBHOOK_MAX_ATTEMPTS budget; earlier attempts stay in its history. It is sent right after this answer.",
      params: { ...idParam, delivery_id: { schema: UuidParam, description: "Delivery ID" } },
      success: { status: 202, description: "Delivery scheduled", data: WebhookDeliverySchema },
      errors: [404, 503],
    },
    async (c, { params }) => {
      const db = c.get("db");
      const [delivery] = await presentDeliveries(db, [await redeliver(db, params.id, params.delivery_id)]);
      return { data: delivery };
    },
  );
}
