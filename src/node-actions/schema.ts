import * as v from "valibot";
import { LimitInput } from "../commands/rollout-limits";
import { EXECUTION_STATUSES } from "../db/schema";
import { DateTimeOutput, objectMessage, UuidOutput } from "../schemas/common";
import { TargetingSchema } from "../targeting/schema";
import { CONTAINER_ACTIONS, CONTAINER_ID, POWER_ACTIONS, SERVICE_ACTIONS, SERVICE_NAME } from "./scripts";

const ONE_LINE = /^[^\r\n]*$/;

/** The fields of a power action request, for one node or (with `targeting`) many. */
const POWER_FIELDS = {
  action: v.pipe(
    v.picklist(POWER_ACTIONS, `must be one of: ${POWER_ACTIONS.join(", ")}`),
    v.description("reboot or shutdown (power off)"),
  ),
  confirm: v.pipe(
    v.literal(true, "must be true: a power action takes the machine down"),
    v.description("Must be true: the caller confirms it means to take the machine down"),
  ),
  delay_seconds: v.optional(
    v.pipe(
      v.number("must be an integer"),
      v.integer("must be an integer"),
      v.minValue(0, "must be between 0 and 86400"),
      v.maxValue(86_400, "must be between 0 and 86400"),
      v.description(
        "Seconds from now (0–86,400, default 60; at least 5 are used so the agent can report first)",
      ),
    ),
    60,
  ),
  force: v.optional(
    v.pipe(v.boolean("must be true or false"), v.description("Skip stopping services (systemctl --force)")),
    false,
  ),
  message: v.optional(
    v.pipe(
      v.string("must be a string"),
      v.maxLength(256, "must be at most 256 characters"),
      v.regex(ONE_LINE, "must be one line"),
      v.description("Shown to logged-in users (wall) before the action"),
    ),
  ),
  queue: v.optional(
    v.pipe(
      v.boolean("must be true or false"),
      v.description(
        "Deliver it when an offline node comes back (it expires 5 minutes after its scheduled time); without it an offline node is a 503",
      ),
    ),
    false,
  ),
};

/** `POST /api/v1/nodes/{node_id}/power_actions` (C9). */
export const PowerActionRequest = v.pipe(
  v.strictObject(POWER_FIELDS, objectMessage),
  v.title("PowerActionRequest"),
);

/** `POST /api/v1/power_actions`: the same on every node a targeting matches. */
export const FleetPowerActionRequest = v.pipe(
  v.strictObject(
    {
      ...POWER_FIELDS,
      targeting: TargetingSchema,
      max_concurrency: v.optional(
        v.pipe(
          LimitInput(1),
          v.description(
            'At most this many targeted nodes have a power action in progress at once (a number, or a percentage of the targets such as "10%", at least 1): from its delivery until the node is back with a new boot id (reboot) or offline after its scheduled time (shutdown), or the action failed, expired or was cancelled; at most 15 minutes past its scheduled time. The others wait as `waiting`, oldest node first, each scheduled `delay_seconds` after its turn comes. Omitted: all at once',
          ),
        ),
      ),
    },
    objectMessage,
  ),
  v.title("FleetPowerActionRequest"),
);
export type FleetPowerActionInput = v.InferOutput<typeof FleetPowerActionRequest>;

export type PowerActionInput = v.InferOutput<typeof PowerActionRequest>;

/** `POST /api/v1/nodes/{node_id}/services/{name}/actions` (C23). */
export const ServiceActionRequest = v.pipe(
  v.strictObject(
    {
      action: v.pipe(
        v.picklist(SERVICE_ACTIONS, `must be one of: ${SERVICE_ACTIONS.join(", ")}`),
        v.description("systemctl verb"),
      ),
    },
    objectMessage,
  ),
  v.title("ServiceActionRequest"),
);

/** `POST /api/v1/nodes/{node_id}/containers/{container_id}/actions` (C23). */
export const ContainerActionRequest = v.pipe(
  v.strictObject(
    {
      action: v.pipe(
        v.picklist(CONTAINER_ACTIONS, `must be one of: ${CONTAINER_ACTIONS.join(", ")}`),
        v.description("docker verb"),
      ),
      timeout_seconds: v.optional(
        v.pipe(
          v.number("must be an integer"),
          v.integer("must be an integer"),
          v.minValue(0, "must be between 0 and 3600"),
          v.maxValue(3600, "must be between 0 and 3600"),
          v.description("For stop and restart: seconds to wait before killing (docker -t)"),
        ),
      ),
    },
    objectMessage,
  ),
  v.title("ContainerActionRequest"),
);

export const ServiceNameParam = v.pipe(
  v.string(),
  v.regex(SERVICE_NAME, "must be a systemd service unit name such as nginx.service"),
);
export const ContainerIdParam = v.pipe(v.string(), v.regex(CONTAINER_ID, "must be a container id or name"));

/** What a node action answers: the typed command it became and its one execution. */
export const NodeActionResponseSchema = v.pipe(
  v.object({
    kind: v.picklist(["power", "service", "container"]),
    action: v.string(),
    target: v.pipe(v.nullable(v.string()), v.description("The service unit or container acted on")),
    node_id: UuidOutput,
    command_id: UuidOutput,
    execution_id: UuidOutput,
    status: v.pipe(
      v.picklist(EXECUTION_STATUSES),
      v.description("The execution's status; follow it at /api/v1/command_executions/{execution_id}"),
    ),
    scheduled_at: v.pipe(
      v.nullable(DateTimeOutput),
      v.description("Power actions: when the machine goes down"),
    ),
    expired_at: v.nullable(DateTimeOutput),
  }),
  v.title("NodeActionResponse"),
);
export type NodeActionResponse = v.InferOutput<typeof NodeActionResponseSchema>;
