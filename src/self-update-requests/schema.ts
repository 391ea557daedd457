import * as v from "valibot";
import { LimitInput, needsMaxConcurrency, ROLLOUT_ORDERS } from "../commands/rollout-limits";
import { SELF_UPDATE_TARGET_STATUSES } from "../db/schema";
import { isLoopbackHostname } from "../protocol/loopback";
import { DateTimeOutput, objectMessage, UuidOutput } from "../schemas/common";
import { TargetingSchema } from "../targeting/schema";

/** Where a request stands. */
export const SELF_UPDATE_STATUSES = ["pending", "processing", "completed"] as const;

const Sha256 = v.pipe(
  v.string("must be a string"),
  v.regex(/^[0-9a-fA-F]{64}$/, "must be a SHA-256 digest (64 hex characters)"),
  v.toLowerCase(),
);

/** Outpost extension: the release a request pins (the server's latest when omitted). */
export const ReleaseInput = v.pipe(
  v.strictObject(
    {
      version: v.pipe(
        v.string("must be a string"),
        v.regex(
          /^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$/,
          "must be a version such as 1.2.3 (at most 64 characters)",
        ),
        v.description("Version the bundle reports (the agent ignores the request when it already runs it)"),
      ),
      url: v.pipe(
        v.string("must be a string"),
        v.maxLength(2048, "must be at most 2048 characters"),
        v.check((raw) => {
          try {
            const url = new URL(raw);
            // Plain http only to loopback: the bundle is root code, and the checksum rides the same request.
            const transport =
              url.protocol === "https:" || (url.protocol === "http:" && isLoopbackHostname(url.hostname));
            return transport && !url.username && !url.password;
          } catch {
            return false;
          }
        }, "must be an https URL without credentials (http only to a loopback host)"),
        v.description("Where agents download the bundle; fetched by the agents, not by the server"),
      ),
      sha256: v.pipe(Sha256, v.description("SHA-256 of the bundle; agents refuse a download that differs")),
    },
    objectMessage,
  ),
  v.description(
    "Outpost extension: the agent release to roll out. Omitted: this server's own latest release (`GET /agent/v1/releases/latest`).",
  ),
);

// A targeting filter's value as stored: the JSON type of its query parameter.
const FilterValue = v.union([v.string(), v.number(), v.boolean()]);

const TargetingOutput = v.object({
  type: v.picklist(["all", "nodes", "clusters"]),
  node_ids: v.optional(v.array(UuidOutput)),
  cluster_names: v.optional(v.array(v.string())),
  node_filters: v.optional(v.record(v.string(), FilterValue)),
  cluster_filters: v.optional(v.record(v.string(), FilterValue)),
});

/** The contract's `SelfUpdateRequestResponse`, plus the pinned `release`. */
export const SelfUpdateRequestResponse = v.pipe(
  v.object({
    id: UuidOutput,
    inserted_at: DateTimeOutput,
    release: v.pipe(
      v.nullable(
        v.object({
          version: v.string(),
          url: v.string(),
          sha256: v.string(),
          allow_downgrade: v.optional(v.boolean()),
        }),
      ),
      v.description("Outpost extension: the release this request rolls out, pinned at creation"),
    ),
    status: v.pipe(v.picklist(SELF_UPDATE_STATUSES), v.description("Request processing status")),
    summary: v.pipe(
      v.nullable(v.object({ total: v.number(), triggered: v.number(), failed: v.number() })),
      v.description(
        "Available after completion: eligible nodes (`total`), nodes sent the update (`triggered`), and nodes not connected or not reachable (`failed`)",
      ),
    ),
    targeting: v.pipe(
      TargetingOutput,
      v.description(
        "Targeting as given, with `node_filters.status = healthy` and `node_filters.self_update_enabled = true` applied",
      ),
    ),
    rollout: v.pipe(
      v.optional(
        v.object({
          max_concurrency: v.string(),
          max_errors: v.nullable(v.string()),
          concurrency_limit: v.pipe(
            v.nullable(v.number()),
            v.description("`max_concurrency` resolved against the targets (null until it starts)"),
          ),
          error_limit: v.nullable(v.number()),
          order: v.picklist(ROLLOUT_ORDERS),
          status: v.pipe(
            v.nullable(v.picklist(["running", "completed", "stopped"])),
            v.description("null until the targets are resolved; stopped: failures passed `max_errors`"),
          ),
          reason: v.nullable(v.string()),
          nodes: v.pipe(
            v.record(v.picklist(SELF_UPDATE_TARGET_STATUSES), v.number()),
            v.description("Targets by state: waiting, updating, updated, failed, cancelled"),
          ),
        }),
      ),
      v.description(
        "Outpost extension, present only when the request was created with `max_concurrency`: the rollout",
      ),
    ),
    updated_at: DateTimeOutput,
  }),
  v.title("SelfUpdateRequestResponse"),
);
export type SelfUpdateRequestResponseData = v.InferOutput<typeof SelfUpdateRequestResponse>;
export type ReleaseData = v.InferOutput<typeof ReleaseInput>;

/** The contract's `SelfUpdateRequestCreateRequest`: the commands' targeting plus an optional pinned release. */
export const SelfUpdateRequestCreateRequest = v.pipe(
  v.strictObject(
    {
      targeting: TargetingSchema,
      release: v.optional(ReleaseInput),
      allow_downgrade: v.optional(
        v.pipe(
          v.boolean("must be true or false"),
          v.description(
            "Outpost extension: `true` lets agents running a newer version install this release; without it they refuse a downgrade",
          ),
        ),
      ),
      max_concurrency: v.optional(
        v.pipe(
          LimitInput(1),
          v.description(
            'Outpost extension: update at most this many agents at once (a number, or a percentage of the targets such as "10%"); each slot is held until the agent says hello on the new version',
          ),
        ),
      ),
      max_errors: v.optional(
        v.pipe(
          LimitInput(0),
          v.description(
            "Outpost extension: stop the rollout once more nodes than this failed (not connected at their turn, or not back on the version within 10 minutes); needs `max_concurrency`",
          ),
        ),
      ),
      rollout_order: v.optional(
        v.pipe(
          v.picklist(ROLLOUT_ORDERS, `must be one of: ${ROLLOUT_ORDERS.join(", ")}`),
          v.description("Outpost extension: oldest node first (default) or random; needs `max_concurrency`"),
        ),
      ),
    },
    objectMessage,
  ),
  needsMaxConcurrency("max_errors"),
  needsMaxConcurrency("rollout_order"),
  v.title("SelfUpdateRequestCreateRequest"),
);
