import { ApiError } from "../errors";
import type { RpcErrorCode } from "../protocol/reach-methods";

/** How a reach-in call that did not succeed ended (the NodeSession's `RpcOutcome` minus `ok`). */
export type ReachFailure =
  | { status: "error"; code: RpcErrorCode; message: string }
  | { status: "offline"; node_status: string }
  | { status: "timeout" }
  | { status: "unsupported"; capability: string };

const BY_AGENT_CODE: Record<RpcErrorCode, ConstructorParameters<typeof ApiError>[0]> = {
  not_found: "not_found",
  conflict: "conflict",
  policy: "forbidden",
  bad_request: "bad_request",
  too_large: "payload_too_large",
  unsupported: "conflict",
  internal: "service_unavailable",
};

/**
 * The error envelope for a call that failed: not connected → 503 with `details.node_status`; no answer
 * in time → 503 with `details.reason` `agent_timeout`; capability missing → 409 naming it; the host's
 * own policy → 403; the agent's not-found/conflict/bad-request → 404/409/400.
 */
export function reachError(failure: ReachFailure): ApiError {
  switch (failure.status) {
    case "offline":
      return new ApiError("service_unavailable", "The node's agent is not connected", {
        node_status: [failure.node_status],
      });
    case "timeout":
      return new ApiError("service_unavailable", "The node's agent did not answer in time", {
        reason: ["agent_timeout"],
      });
    case "unsupported":
      // An agent older than the feature (or its protocol version): upgrading it is the way out.
      return new ApiError(
        "conflict",
        `The node's agent lacks the capability ${failure.capability}; upgrade the agent`,
        { capability: [failure.capability], reason: ["agent_outdated"] },
      );
    case "error":
      return new ApiError(BY_AGENT_CODE[failure.code], failure.message, {
        reason: [failure.code === "policy" ? "refused_by_host_policy" : failure.code],
      });
  }
}
