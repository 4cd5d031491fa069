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
  /**
   * One connection of its own until released: what session-level advisory locks need (a
   * lock ends with its connection, so a crashed holder never keeps one).
   */
  hold(): Promise<HeldConnection>;
  close(): Promise<void>;
}

export interface HeldConnection extends Queryable {
  /** Ends the connection (and with it every lock it held) when `destroy`, else returns it to the pool. */
  release(destroy?: boolean): void;
  /** Called once if the connection fails while held (a restarted server, a cut network). */
  onLost(listener: (err: Error) => void): void;
  /** NOTIFY payloads of the channels this connection LISTENs on. */
  onNotification(listener: (channel: string) => void): void;
}

export interface DatabaseOptions {
  /** Connections at most (default 4: a CLI needs few; the dispatcher holds one per running slot). */
  maxConnections?: number;
  applicationName?: string;
  /** @default 5000 */
  connectTimeoutMs?: number;
}

/** Opens a socket-like stream to host:port; pg then calls its connect(). Used for an SSH tunnel. */
export type DatabaseDialer = (host: string, port: number) => Duplex;

export async function connectDatabase(url: string, log: Logger, dial?: DatabaseDialer, options: DatabaseOptions = {}): Promise<Database> {
  const { default: pg } = await importExternal<typeof import('pg')>('pg');
  const where = describeUrl(url);
  const through = dial ? tunnelTarget(url) : undefined;
  const pool = new pg.Pool({
    connectionString: url,
    max: options.maxConnections ?? 4,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    idleTimeoutMillis: 1000,
    application_name: options.applicationName ?? 'faasctl',
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
    async hold() {
      const client = await pool.connect().catch((err) => {
        throw mapPgError(err, where);
      });
      let released = false;
      return {
        query: (sql, params) => run(client, sql, params),
        release(destroy = false) {
          if (released) return;
          released = true;
          client.release(destroy || undefined);
        },
        onLost(listener) {
          client.once('error', (err: Error) => listener(err));
          client.once('end', () => listener(new Error('the connection to PostgreSQL ended')));
        },
        onNotification(listener) {
          client.on('notification', (n: { channel: string }) => listener(n.channel));
        },
      };
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
