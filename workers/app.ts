import { Hono } from "hono";
import { ApiError, errorResponse, handleError } from "./errors";
import { registerConnectRoute } from "./gateway/connect";
import { registerEnrollRoute } from "./gateway/enroll";
import { registerReleaseRoutes } from "./gateway/releases";
import { registerSshGatewayRoutes } from "./gateway/ssh";
import { dispatchWebhooksAfterWrites } from "./middleware/dispatch-webhooks";
import { type AppEnv, requestContext } from "./middleware/request-context";
import { securityHeaders } from "./middleware/security-headers";
import { registerAdminRoutes } from "./routes/admins";
import { registerAlertRuleRoutes } from "./routes/alert-rules";
import { registerAlertSilenceRoutes } from "./routes/alert-silences";
import { registerAlertRoutes } from "./routes/alerts";
import { registerAliasRoutes } from "./routes/aliases";
import { registerApiTokenRoutes } from "./routes/api-tokens";
import { registerAsyncApiRoutes } from "./routes/asyncapi";
import { registerAuditEventRoutes } from "./routes/audit-events";
import { registerAuthRoutes } from "./routes/auth";
import { registerClusterRoutes } from "./routes/clusters";
import { registerCommandExecutionRoutes } from "./routes/command-executions";
import { registerCommandRoutes } from "./routes/commands";
import { registerConsoleRoutes } from "./routes/console";
import { registerDocsRoutes } from "./routes/docs";
import { registerEnrollmentKeyRoutes } from "./routes/enrollment-keys";
import { registerEventTypeRoutes } from "./routes/event-types";
import { registerExecutionStreamRoute } from "./routes/execution-stream";
import { registerFleetSummaryRoutes } from "./routes/fleet-summary";
import { registerHealthRoutes } from "./routes/health";
import { registerInventoryRoutes } from "./routes/inventory";
import { registerInventoryRefreshRequestRoutes } from "./routes/inventory-refresh-requests";
import { registerMetricsHistoryRoutes } from "./routes/metrics-history";
import { registerNodeActionRoutes } from "./routes/node-actions";
import { registerNodeFileRoutes } from "./routes/node-files";
import { registerNodeLogRoutes } from "./routes/node-logs";
import { registerNodeMetricsRoutes } from "./routes/node-metrics";
import { registerNodeRegistrationRoutes } from "./routes/node-registrations";
import { registerNodeTokenRoutes } from "./routes/node-tokens";
import { registerNodeTombstoneRoutes } from "./routes/node-tombstones";
import { registerNodeRoutes } from "./routes/nodes";
import { registerNotificationChannelRoutes } from "./routes/notification-channels";
import { registerPowerActionRoutes } from "./routes/power-actions";
import { registerProcessRoutes } from "./routes/processes";
import { registerRebootOrchestrationRoutes } from "./routes/reboot-orchestrations";
import { registerRoleRoutes } from "./routes/roles";
import { registerSelfUpdateRequestRoutes } from "./routes/self-update-requests";
import { registerSshPublicKeyRoutes } from "./routes/ssh-public-keys";
import { registerSshUsernameRoutes } from "./routes/ssh-usernames";
import { registerStreamTokenRoutes } from "./routes/stream-tokens";
import { registerSystemMetricsRoutes } from "./routes/system-metrics";
import { registerUserRoutes } from "./routes/users";
import { registerWebhookRoutes } from "./routes/webhooks";

/**
 * Builds the Hono app: request context, every route module, and the error and
 * not-found handlers that keep every answer in the contract's envelope.
 */
export function createApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use("*", securityHeaders());
  app.use("*", requestContext());
  app.use("/api/v1/*", dispatchWebhooksAfterWrites());
  app.use("/agent/v1/*", dispatchWebhooksAfterWrites());
  registerHealthRoutes(app);
  registerDocsRoutes(app);
  registerConsoleRoutes(app);
  registerClusterRoutes(app);
  registerEnrollmentKeyRoutes(app);
  registerFleetSummaryRoutes(app); // before the node routes: /nodes/summary is not a node id
  registerNodeRoutes(app);
  registerInventoryRoutes(app);
  registerInventoryRefreshRequestRoutes(app);
  registerNodeTokenRoutes(app);
  registerNodeTombstoneRoutes(app);
  registerNodeRegistrationRoutes(app);
  registerAliasRoutes(app);
  registerNodeMetricsRoutes(app);
  registerSystemMetricsRoutes(app);
  registerMetricsHistoryRoutes(app);
  registerProcessRoutes(app);
  registerNodeLogRoutes(app);
  registerNodeFileRoutes(app);
  registerAlertRuleRoutes(app);
  registerAlertRoutes(app);
  registerAlertSilenceRoutes(app);
  registerNotificationChannelRoutes(app);
  registerEventTypeRoutes(app);
  registerWebhookRoutes(app);
  registerAsyncApiRoutes(app);
  registerCommandRoutes(app);
  registerNodeActionRoutes(app);
  registerPowerActionRoutes(app);
  registerRebootOrchestrationRoutes(app);
  registerCommandExecutionRoutes(app);
  registerExecutionStreamRoute(app);
  registerSelfUpdateRequestRoutes(app);
  registerAdminRoutes(app);
  registerSshUsernameRoutes(app);
  registerSshPublicKeyRoutes(app);
  registerAuthRoutes(app);
  registerUserRoutes(app);
  registerRoleRoutes(app);
  registerApiTokenRoutes(app);
  registerStreamTokenRoutes(app);
  registerAuditEventRoutes(app);
  registerEnrollRoute(app);
  registerConnectRoute(app);
  registerReleaseRoutes(app);
  registerSshGatewayRoutes(app);
  app.notFound((c) =>
    errorResponse(
      c,
      new ApiError("not_found", `No route for ${c.req.method} ${new URL(c.req.url).pathname}`),
    ),
  );
  app.onError(handleError);
  return app;
}
