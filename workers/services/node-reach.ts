import type { NodeSession } from "../../durable-objects/node-session";
import type { RpcOutcome } from "../../durable-objects/node-session/rpc";
import type { Env } from "../../src/config";
import type { Database } from "../../src/db/client";
import { reachError } from "../../src/node-reach/errors";
import { getNode } from "../../src/nodes/store";
import type { MethodParams, MethodResult, ReachMethod } from "../../src/protocol/reach-methods";
import { nodeSession } from "./node-sessions";

/** The result of an outcome, or the matching error envelope thrown. */
export function unwrap<T>(outcome: RpcOutcome<T>): T {
  if (outcome.status === "ok") return outcome.result;
  throw reachError(outcome);
}

/** One call through a session stub already at hand (an upload's chunks), typed by its method. */
export async function callSession<M extends ReachMethod>(
  session: DurableObjectStub<NodeSession>,
  method: M,
  params: MethodParams<M>,
): Promise<MethodResult<M>> {
  // The stub's RPC type loses the method's generic; the object answers with MethodResult<M>.
  return unwrap((await session.reach(method, params)) as RpcOutcome<MethodResult<M>>);
}

/**
 * Calls `method` on a node's agent through its NodeSession (404 for an unknown node) and returns
 * the agent's result, or throws the error envelope for how it failed (`reachError`).
 * @example const { processes } = await callNode(c.env, db, nodeId, "processes.list", {})
 */
export async function callNode<M extends ReachMethod>(
  env: Env,
  db: Database,
  nodeId: string,
  method: M,
  params: MethodParams<M>,
): Promise<MethodResult<M>> {
  await getNode(db, nodeId);
  return callSession(nodeSession(env, nodeId), method, params);
}
