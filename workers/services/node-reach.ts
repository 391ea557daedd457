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

/** Methods that change nothing on the host: asked first, the node's row read only if they fail. */
const READS: ReadonlySet<ReachMethod> = new Set(["processes.list", "processes.get", "logs.query"]);

/**
 * Calls `method` on a node's agent through its NodeSession (404 for an unknown node) and returns
 * the agent's result, or throws the error envelope for how it failed (`reachError`). A read goes to
 * the node's session at once and looks the node up in libSQL only when it failed (an unknown node's
 * session has no agent): one database round trip less on every answered read. A call with side
 * effects checks the node first.
 * @example const { processes } = await callNode(c.env, db, nodeId, "processes.list", {})
 */
export async function callNode<M extends ReachMethod>(
  env: Env,
  db: Database,
  nodeId: string,
  method: M,
  params: MethodParams<M>,
): Promise<MethodResult<M>> {
  if (!READS.has(method)) {
    await getNode(db, nodeId);
    return callSession(nodeSession(env, nodeId), method, params);
  }
  // The stub's RPC type loses the method's generic; the object answers with MethodResult<M>.
  const outcome = (await nodeSession(env, nodeId).reach(method, params)) as RpcOutcome<MethodResult<M>>;
  if (outcome.status !== "ok") await getNode(db, nodeId);
  return unwrap(outcome);
}
