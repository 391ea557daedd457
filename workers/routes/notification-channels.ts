import type { Hono } from "hono";
import { listChannelDeliveries } from "../../src/notification-channels/deliveries";
import {
  notificationChannelListSpec,
  notificationDeliveryListSpec,
} from "../../src/notification-channels/list";
import {
  presentNotificationChannel,
  presentNotificationDelivery,
} from "../../src/notification-channels/present";
import {
  NotificationChannelCreateRequest,
  NotificationChannelSchema,
  NotificationChannelUpdateRequest,
  NotificationDeliverySchema,
} from "../../src/notification-channels/schema";
import {
  createNotificationChannel,
  deleteNotificationChannel,
  getNotificationChannel,
  listNotificationChannels,
  updateNotificationChannel,
} from "../../src/notification-channels/store";
import { UuidParam } from "../../src/schemas/common";
import type { AppContext, AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { listRoute } from "../openapi/list-route";
import { sendTestNotification } from "../services/notification-dispatch";

const TAG = "Alerts.NotificationChannels";
const idParam = { id: { schema: UuidParam, description: "Notification channel ID" } };

function keys(c: AppContext) {
  const { encryptionKey, webhookAllowPrivateIps } = c.get("config");
  return { encryptionKey, allowPrivateIps: webhookAllowPrivateIps };
}

/** Registers notification channels (where alert notifications go), their test send and delivery history. */
export function registerNotificationChannelRoutes(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "post",
      path: "/api/v1/notification_channels",
      permission: "notification_channels:write",
      tag: TAG,
      summary: "Create notification channel",
      body: NotificationChannelCreateRequest,
      success: { status: 201, description: "Channel created", data: NotificationChannelSchema },
      errors: [422, 503],
    },
    async (c, { body }) => ({
      data: presentNotificationChannel(await createNotificationChannel(c.get("db"), keys(c), body)),
    }),
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/notification_channels",
      permission: "notification_channels:read",
      tag: TAG,
      summary: "List notification channels",
      list: notificationChannelListSpec,
      success: {
        status: 200,
        description: "Paginated list of channels",
        data: NotificationChannelSchema,
        paginated: true,
      },
      errors: [503],
    },
    listRoute({ page: listNotificationChannels, present: (rows) => rows.map(presentNotificationChannel) }),
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/notification_channels/{id}",
      permission: "notification_channels:read",
      tag: TAG,
      summary: "Get notification channel",
      params: idParam,
      success: { status: 200, description: "The channel", data: NotificationChannelSchema },
      errors: [404, 503],
    },
    async (c, { params }) => ({
      data: presentNotificationChannel(await getNotificationChannel(c.get("db"), params.id)),
    }),
  );

  defineRoute(
    app,
    {
      method: "patch",
      path: "/api/v1/notification_channels/{id}",
      permission: "notification_channels:write",
      tag: TAG,
      summary: "Update notification channel",
      description:
        "config keys merge into the stored settings (null removes an optional one); the type can't change.",
      params: idParam,
      body: NotificationChannelUpdateRequest,
      success: { status: 200, description: "The updated channel", data: NotificationChannelSchema },
      errors: [404, 422, 503],
    },
    async (c, { params, body }) => ({
      data: presentNotificationChannel(
        await updateNotificationChannel(c.get("db"), keys(c), params.id, body),
      ),
    }),
  );

  defineRoute(
    app,
    {
      method: "delete",
      path: "/api/v1/notification_channels/{id}",
      permission: "notification_channels:write",
      tag: TAG,
      summary: "Delete notification channel",
      params: idParam,
      success: { status: 204, description: "Deleted", data: null },
      errors: [404, 503],
    },
    async (c, { params }) => {
      await deleteNotificationChannel(c.get("db"), params.id);
    },
  );

  defineRoute(
    app,
    {
      method: "post",
      path: "/api/v1/notification_channels/{id}/test",
      permission: "notification_channels:write",
      tag: TAG,
      summary: "Send a test notification",
      description:
        "Sends a sample alert notification now, once, and records it in the channel's deliveries (reason test).",
      params: idParam,
      success: {
        status: 200,
        description: "The test delivery and its outcome",
        data: NotificationDeliverySchema,
      },
      errors: [404, 503],
    },
    async (c, { params }) => {
      const db = c.get("db");
      const channel = await getNotificationChannel(db, params.id);
      return { data: presentNotificationDelivery(await sendTestNotification(c.get("config"), db, channel)) };
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/notification_channels/{id}/deliveries",
      permission: "notification_channels:read",
      tag: TAG,
      summary: "List a channel's deliveries",
      params: idParam,
      list: notificationDeliveryListSpec,
      success: {
        status: 200,
        description: "Paginated delivery history",
        data: NotificationDeliverySchema,
        paginated: true,
      },
      errors: [404, 503],
    },
    listRoute({
      page: async (db, q, params: { id: string }) => {
        await getNotificationChannel(db, params.id);
        return listChannelDeliveries(db, q, params.id);
      },
      present: (rows) => rows.map(presentNotificationDelivery),
    }),
  );
}
