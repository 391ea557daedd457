// The console's resource types come from the generated OpenAPI types the CLI uses
// (cli/api-types.ts, `npm run cli:types`), so a changed response shape fails `tsc -p web`
// instead of showing up as a blank cell. Type-only: nothing of it reaches the bundle.
import type { paths } from "../../cli/api-types";

type Json<R> = R extends { content: { "application/json": infer J } } ? J : never;
type Ok<Op> = Op extends { responses: infer R }
  ? 200 extends keyof R
    ? Json<R[200]>
    : 201 extends keyof R
      ? Json<R[201]>
      : never
  : never;

/** The `data` of a path's successful answer; for a list, one item of it. */
export type Data<P extends keyof paths, M extends keyof paths[P] = "get"> =
  Ok<paths[P][M]> extends { data: infer D } ? (D extends readonly (infer I)[] ? I : D) : never;

/** A request body of a path. */
export type Body<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  requestBody?: { content: { "application/json": infer B } };
}
  ? B
  : never;

export type Alert = Data<"/api/v1/alerts">;
export type AlertRule = Data<"/api/v1/alert_rules">;
export type AlertRuleInput = Body<"/api/v1/alert_rules", "post">;
export type User = Data<"/api/v1/users">;
export type Role = Data<"/api/v1/roles">;
export type ApiToken = Data<"/api/v1/api_tokens">;
export type Webhook = Data<"/api/v1/webhooks">;
export type EnrollmentKey = Data<"/api/v1/enrollment_keys">;
export type Cluster = Data<"/api/v1/clusters">;
export type NotificationChannel = Data<"/api/v1/notification_channels">;
export type NotificationChannelInput = Body<"/api/v1/notification_channels", "post">;
export type ChannelTestResult = Data<"/api/v1/notification_channels/{id}/test", "post">;
export type Process = Data<"/api/v1/nodes/{node_id}/processes">;
export type SignalResult = Data<"/api/v1/nodes/{node_id}/processes/{pid}/signal", "post">;
export type LogEntry = Data<"/api/v1/nodes/{node_id}/logs">;
export type FileUploadResult = Data<"/api/v1/nodes/{node_id}/files", "post">;
export type Software = Data<"/api/v1/nodes/{node_id}/software">;
