import type { NodeSession } from "../../durable-objects/node-session";
import type { Env } from "../../src/config";

/**
 * The NodeSession stub of a node (`idFromName(node_id)`), called through its typed RPC methods
 * (`sendFrame`, `changeCluster`, `deliver`, `pushExecutions`, `forget`, `metrics`, `state`). Not
 * partyserver's `getServerByName`: that makes a `setName` call to the object before every request,
 * a second round trip per delivery, while the object reads its name from `ctx.id.name` anyway.
 * @example await nodeSession(env, nodeId).sendFrame({ type: "cancel", execution_id })
 */
export function nodeSession(env: Env, nodeId: string): DurableObjectStub<NodeSession> {
  if (!env.NODE_SESSION) throw new Error("NODE_SESSION binding is missing");
  return env.NODE_SESSION.get(env.NODE_SESSION.idFromName(nodeId));
}
