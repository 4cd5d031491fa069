import { describe, expect, it } from 'vitest';
import { reportError } from '../../src/cli/errors.js';
import { AuthError, ConflictError, ConnectionError, EXIT, NotFoundError, TimeoutError, UsageError } from '../../src/base/errors.js';
import { mapPgError } from '../../src/db/errors.js';
import { mapDockerError } from '../../src/swarm/errors.js';
import { createTestContext } from '../helpers/test-context.js';

describe('exit codes', () => {
  it.each([
    [new UsageError('x'), EXIT.usage, 2],
    [new NotFoundError('x'), EXIT.notFound, 3],
    [new ConflictError('x'), EXIT.notFound, 3],
    [new ConnectionError('x'), EXIT.connection, 5],
    [new AuthError('x'), EXIT.auth, 7],
    [new TimeoutError('x'), EXIT.timeout, 124],
  ])('%s exits %i', (err, code, literal) => {
    expect(err.exitCode).toBe(code);
    expect(code).toBe(literal);
  });
});

describe('reportError', () => {
  it('prints one line and a hint for a known error, no stack', () => {
    const t = createTestContext();
    const code = reportError(new NotFoundError('function "x" not found', { hint: 'faasctl fn ls' }), t.ctx.io);
    expect(code).toBe(3);
    expect(t.stderr()).toBe('error: function "x" not found\nhint: faasctl fn ls\n');
    expect(t.stdout()).toBe('');
  });

  it('writes {"error":{code,message,hint}} on stdout with --json', () => {
    const t = createTestContext();
    t.ctx.setGlobals({ json: true });
    reportError(new UsageError('bad', { hint: 'fix it' }), t.ctx.io);
    expect(JSON.parse(t.stdout())).toEqual({ error: { code: 'usage', message: 'bad', hint: 'fix it', exitCode: 2 } });
  });

  it('treats anything else as a bug (exit 1) and shows the stack only with --debug', () => {
    const quiet = createTestContext();
    expect(reportError(new TypeError('boom'), quiet.ctx.io)).toBe(1);
    expect(quiet.stderr()).toContain('internal error: boom');
    expect(quiet.stderr()).not.toContain('at ');
    const debug = createTestContext();
    debug.ctx.setGlobals({ debug: true });
    reportError(new TypeError('boom'), debug.ctx.io);
    expect(debug.stderr()).toMatch(/TypeError: boom\n\s+at /);
  });
});

describe('adapter error mapping', () => {
  it('maps an unreachable Docker socket to a connection error naming the endpoint', () => {
    const err = mapDockerError(Object.assign(new Error('connect ENOENT /x.sock'), { code: 'ENOENT' }), 'unix:///x.sock', 'version');
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err.message).toBe('cannot reach the Docker engine at unix:///x.sock (ENOENT)');
  });

  it('maps Docker 404 and 409 to not-found and conflict', () => {
    expect(mapDockerError(Object.assign(new Error('x'), { statusCode: 404, json: { message: 'no such service' } }), 'e', 'service inspect')).toBeInstanceOf(NotFoundError);
    expect(mapDockerError(Object.assign(new Error('x'), { statusCode: 409 }), 'e', 'config create')).toBeInstanceOf(ConflictError);
    // The engine answers 400 InvalidArgument for a config or secret a service still mounts (issue 17: it was an "internal error").
    const inUse = { statusCode: 400, json: { message: "rpc error: code = InvalidArgument desc = config 'faasctl-code-x' is in use by the following service: faasctl-run-y" } };
    expect(mapDockerError(Object.assign(new Error('x'), inUse), 'e', 'config rm')).toBeInstanceOf(ConflictError);
    expect(mapDockerError(Object.assign(new Error('x'), { statusCode: 400, json: { message: 'invalid name' } }), 'e', 'config rm')).not.toBeInstanceOf(ConflictError);
  });

  it('maps PostgreSQL refusal, bad login and unique violations', () => {
    expect(mapPgError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), '127.0.0.1:1/db')).toBeInstanceOf(ConnectionError);
    const login = mapPgError(Object.assign(new Error('password authentication failed'), { code: '28P01' }), 'h:5432/db');
    expect(login).toBeInstanceOf(ConnectionError);
    expect(mapPgError(Object.assign(new Error('dup'), { code: '23505', detail: 'Key (name)=(a) already exists.' }), 'h')).toBeInstanceOf(ConflictError);
  });
});
