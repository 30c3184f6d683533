import { getTableColumns, sql, type SQL } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';

/** A row of a schema table, as its typed queries return it (property names, schema types). */
export type RowOf<T extends PgTable> = T['$inferSelect'];

/**
 * The select (or RETURNING) list `alias.column AS "property"` for these properties of a schema
 * table, so a raw query's rows have the schema's property names: the row type is then
 * `Pick<RowOf<table>, keys>`, and neither is kept by hand. The names come from schema.ts only.
 */
export function selectList<T extends PgTable, K extends keyof RowOf<T> & string>(table: T, keys: readonly K[], alias?: string): SQL {
  const columns = getTableColumns(table) as Record<string, { name: string; columnType: string }>;
  const prefix = alias ? `${alias}.` : '';
  return sql.raw(keys.map((key) => {
    const column = columns[key];
    if (!column) throw new Error(`no column ${key}`);
    // numeric columns the schema reads as numbers: the driver gives numeric as text.
    const cast = column.columnType === 'PgNumericNumber' ? '::float8' : '';
    return `${prefix}"${column.name}"${cast} AS "${key}"`;
  }).join(', '));
}
