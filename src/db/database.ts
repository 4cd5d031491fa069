import type { Duplex } from 'node:stream';
import type { Pool, PoolClient } from 'pg';
import type { Logger } from '../base/ports.js';
import { mapPgError } from './errors.js';
import { importExternal } from '../base/external.js';

export type Row = Record<string, unknown>;

/** A parameterised statement: SQL text with $n placeholders and its values. */
export interface Queryable {
  query<T extends Row = Row>(sql: string, params?: unknown[]): Promise<T[]>;
}

export interface Database extends Queryable {
  /** Host:port/db of the server, without credentials, for messages. */
  readonly where: string;
  /** Runs fn on one client inside BEGIN/COMMIT; rolls back on any error. */
  withTransaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Opens a socket-like stream to host:port; pg then calls its connect(). Used for an SSH tunnel. */
export type DatabaseDialer = (host: string, port: number) => Duplex;

export async function connectDatabase(url: string, log: Logger, dial?: DatabaseDialer): Promise<Database> {
  const { default: pg } = await importExternal<typeof import('pg')>('pg');
  const where = describeUrl(url);
  const through = dial ? tunnelTarget(url) : undefined;
  const pool = new pg.Pool({
    connectionString: url,
    max: 4,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 1000,
    application_name: 'faasctl',
    ...(dial && through ? { stream: () => dial(through.host, through.port) } : {}),
  });
  if (through) log.debug(`postgres: ${where} through the SSH connection`);
  // An idle client's error would otherwise crash the process.
  pool.on('error', (err) => log.debug(`postgres: idle client error: ${err.message}`));

  const run = async <T extends Row>(client: Pool | PoolClient, sql: string, params: unknown[] = []): Promise<T[]> => {
    log.debug(`postgres: ${sql.replace(/\s+/g, ' ').slice(0, 120)}`);
    try {
      const result = await client.query(sql, params);
      return result.rows as T[];
    } catch (err) {
      throw mapPgError(err, where);
    }
  };

  return {
    where,
    query: (sql, params) => run(pool, sql, params),
    async withTransaction(fn) {
      const client = await pool.connect().catch((err) => {
        throw mapPgError(err, where);
      });
      try {
        await run(client, 'BEGIN');
        const result = await fn({ query: (sql, params) => run(client, sql, params) });
        await run(client, 'COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

function tunnelTarget(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1', port: Number(u.port || 5432) };
}

export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return 'the configured database';
  }
}
