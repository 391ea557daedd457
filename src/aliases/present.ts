import { isoSeconds } from "../time";
import type { AliasResponse } from "./schema";
import type { AliasRow } from "./store";

/** An alias row as the contract's `AliasResponse`; it resolves as `<name>.<cluster vpn_domain>`. */
export function presentAlias(row: AliasRow): AliasResponse {
  return {
    cluster_name: row.clusterName,
    id: row.id,
    inserted_at: isoSeconds(row.insertedAt),
    name: row.name,
    node_id: row.nodeId,
    updated_at: isoSeconds(row.updatedAt),
    vpn_hostname: `${row.name}.${row.vpnDomain}`,
  };
}
