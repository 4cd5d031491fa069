import { withClient } from './test-db.js';

/**
 * The shape of a database's public schema as text lines: every column (type, nullability,
 * default), every index (its definition) and every constraint (its definition), so two
 * databases compare with one toEqual.
 */
export function schemaSnapshot(url: string): Promise<{ columns: string[]; indexes: string[]; constraints: string[] }> {
  return withClient(url, async (c) => {
    const columns = await c.query<{ t: string; c: string; type: string; nullable: string; def: string | null }>(
      `SELECT table_name AS t, column_name AS c, data_type AS type, is_nullable AS nullable, column_default AS def
         FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, column_name`,
    );
    const indexes = await c.query<{ line: string }>("SELECT indexdef AS line FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname");
    const constraints = await c.query<{ line: string }>(
      `SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) AS line
         FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1`,
    );
    return {
      columns: columns.rows.map((r) => `${r.t}.${r.c} ${r.type} ${r.nullable === 'YES' ? 'null' : 'not null'} ${r.def ?? ''}`.trim()),
      indexes: indexes.rows.map((r) => r.line),
      constraints: constraints.rows.map((r) => r.line),
    };
  });
}
