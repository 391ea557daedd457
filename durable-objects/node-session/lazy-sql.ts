/** A tagged template over the object's SQLite storage: values are bound, rows come back as `T[]`. */
export type Sql = <T = Record<string, unknown>>(
  strings: TemplateStringsArray,
  ...values: (string | number | boolean | null)[]
) => T[];

/**
 * A `Sql` whose tables are created when a statement first finds them missing, not up front: a
 * hibernated object is constructed again for every heartbeat, and schema statements on each wake
 * were most of a heartbeat's storage work. `schema` holds `CREATE … IF NOT EXISTS` statements.
 * @example const sql = lazySchemaSql(ctx.storage.sql, ["CREATE TABLE IF NOT EXISTS t (k TEXT)"]);
 */
export function lazySchemaSql(storage: SqlStorage, schema: readonly string[]): Sql {
  const sql: Sql = (strings, ...values) => storage.exec(strings.join("?"), ...values).toArray() as never;
  return (strings, ...values) => {
    try {
      return sql(strings, ...values);
    } catch (error) {
      if (!/no such table/.test(String(error))) throw error;
      for (const statement of schema) storage.exec(statement);
      return sql(strings, ...values);
    }
  };
}
