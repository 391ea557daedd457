import { type SQL, sql } from "drizzle-orm";
import { nodes } from "../../src/db/schema";

/** What a `hello` tells about the machine; the optional facts are absent from older agents. */
export interface HelloFacts {
  version: string;
  hostname: string;
  platform: string;
  arch?: string;
  os_version?: string | null;
  kernel?: string | null;
  primary_ip?: string | null;
  boot_id?: string | null;
}

/**
 * The conditional UPDATE of a node's reported facts: written only when one of them changed, so a
 * reconnect storm of unchanged agents costs no row writes. A fact an older agent does not send keeps
 * its stored value (COALESCE) instead of being wiped.
 */
export function helloFactsUpdate(nodeId: string, facts: HelloFacts, now: number): SQL {
  const columns: [SQL, string | null | undefined][] = [
    [sql`version`, facts.version],
    [sql`hostname`, facts.hostname],
    [sql`platform`, facts.platform],
    [sql`arch`, facts.arch],
    [sql`os_version`, facts.os_version],
    [sql`kernel`, facts.kernel],
    [sql`primary_ip`, facts.primary_ip],
    [sql`boot_id`, facts.boot_id],
  ];
  const given = columns.filter(([, value]) => value !== undefined);
  const sets = given.map(([column, value]) => sql`${column} = ${value ?? null}`);
  const changed = given.map(([column, value]) => sql`${column} IS NOT ${value ?? null}`);
  return sql`UPDATE ${nodes} SET ${sql.join(sets, sql`, `)}, updated_at = ${now}
             WHERE id = ${nodeId} AND (${sql.join(changed, sql` OR `)})`;
}
