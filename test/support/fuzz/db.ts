/**
 * Database fingerprints for the "rejected requests change nothing" property:
 * row count and the concatenation of every row of every table (compared in
 * full, shown as a checksum), read with one statement.
 */
import { sql } from "drizzle-orm";
import { createDatabase } from "../../../src/db/client";

export type Fingerprint = Record<string, { rows: number; body: string }>;

// Long values (e.g. a 1 MiB command_text) are compared by head, tail and length to keep snapshots cheap.
function columnExpr(column: string): string {
  const c = `"${column.replace(/"/g, '""')}"`;
  return `CASE WHEN length(${c}) > 512 THEN quote(substr(${c}, 1, 256)) || '…' || quote(substr(${c}, -256)) || '#' || length(${c}) ELSE quote(${c}) END`;
}

/** FNV-1a (32 bit), for showing which way a table changed. */
export function checksum(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}

// Written on purpose by rejected requests: the audit log records refusals, and failed logins count
// toward a lockout. Every other table must stay unchanged.
const RECORDS_REFUSALS = ["audit_events", "audit_checkpoint", "login_throttle"];

export async function createFingerprinter(url: string) {
  const db = createDatabase({ url });
  const tables = (
    await db.all<{ name: string }>(
      sql`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' ORDER BY name`,
    )
  )
    .map((t) => t.name)
    .filter((name) => !RECORDS_REFUSALS.includes(name));
  const parts: string[] = [];
  for (const [i, table] of tables.entries()) {
    const columns = (await db.all<{ name: string }>(sql.raw(`PRAGMA table_info("${table}")`))).map(
      (c) => c.name,
    );
    const row = columns.map(columnExpr).join(` || '|' || `);
    parts.push(
      `SELECT ${i} AS i, count(*) AS n, coalesce(group_concat(r, char(10)), '') AS body FROM (SELECT ${row} AS r FROM "${table}" ORDER BY rowid)`,
    );
  }
  // One statement, one round trip.
  const query = sql.raw(parts.join(" UNION ALL "));

  async function fingerprint(): Promise<Fingerprint> {
    const rows = await db.all<{ i: number; n: number; body: string }>(query);
    const out: Fingerprint = {};
    for (const { i, n, body } of rows) out[tables[i]] = { rows: n, body };
    return out;
  }

  /** Tables whose fingerprint differs, described. */
  function diff(before: Fingerprint, after: Fingerprint): string[] {
    return tables
      .filter((t) => before[t].body !== after[t].body || before[t].rows !== after[t].rows)
      .map((t) => {
        const a = before[t].body.split("\n");
        const b = new Set(after[t].body.split("\n"));
        const gone = a.filter((r) => !b.has(r));
        const added = [...b].filter((r) => !a.includes(r));
        return `${t}: rows ${before[t].rows} → ${after[t].rows}, checksum ${checksum(before[t].body)} → ${checksum(after[t].body)}; row before: ${gone[0]?.slice(0, 400) ?? "-"}; row after: ${added[0]?.slice(0, 400) ?? "-"}`;
      });
  }

  return { tables, fingerprint, diff, db };
}
