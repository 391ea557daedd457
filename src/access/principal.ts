/** Who is calling: the API/master key, a user's session, or a scoped API token. */
export interface Principal {
  type: "api_key" | "user" | "api_token";
  /** `api_key` / `master_key` for the keys, else the user's or token's id. */
  id: string;
  /** Username, token name, or `API_KEY` / `MASTER_KEY`. */
  name: string;
  /** Permission patterns held (`*` for the keys). */
  permissions: readonly string[];
  /** Cluster names this principal is limited to; null = every cluster. */
  clusterScope: readonly string[] | null;
  /** The user behind a session (its id) or behind a token (its creator, when a user made it). */
  userId: string | null;
  /** The session a user principal came in with (logout ends it). */
  sessionId: string | null;
}

/** The principal of `API_KEY` (`master: false`) or `MASTER_KEY`: superuser, every cluster. */
export function keyPrincipal(master: boolean): Principal {
  return {
    type: "api_key",
    id: master ? "master_key" : "api_key",
    name: master ? "MASTER_KEY" : "API_KEY",
    permissions: ["*"],
    clusterScope: null,
    userId: null,
    sessionId: null,
  };
}
