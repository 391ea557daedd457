import { getServerByName } from "partyserver";
import type { Env } from "../env";

/** The NodeSession stub of a node (`idFromName(node_id)`). */
export async function nodeSession(env: Env, nodeId: string) {
  if (!env.NODE_SESSION) throw new Error("NODE_SESSION binding is missing");
  return getServerByName(env.NODE_SESSION, nodeId);
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
