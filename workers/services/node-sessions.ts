import type { Env } from "../env";

/**
 * The NodeSession stub of a node (`idFromName(node_id)`). Not partyserver's `getServerByName`: that
 * makes a `setName` call to the object before every request, a second round trip per delivery,
 * while the object reads its name from `ctx.id.name` anyway.
 */
export async function nodeSession(env: Env, nodeId: string) {
  if (!env.NODE_SESSION) throw new Error("NODE_SESSION binding is missing");
  return env.NODE_SESSION.get(env.NODE_SESSION.idFromName(nodeId));
}

/** Calls the node's internal API; returns the parsed JSON and status. */
export async function callNodeSession<T>(
  env: Env,
  nodeId: string,
  path: string,
  init?: RequestInit,
): Promise<{ status: number; body: T }> {
  const stub = await nodeSession(env, nodeId);
  const res = await stub.fetch(new Request(`https://node-session${path}`, init));
  return { status: res.status, body: (await res.json()) as T };
}
