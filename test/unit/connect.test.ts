import { describe, expect, it, vi } from 'vitest';
import { parseSshHost, planConnection } from '../../src/swarm/connect.js';
import { createModem } from '../../src/swarm/modem.js';

describe('planConnection', () => {
  it('keeps an explicit unix socket even when DOCKER_HOST points elsewhere', () => {
    vi.stubEnv('DOCKER_HOST', 'tcp://203.0.113.9:2375');
    vi.stubEnv('DOCKER_CERT_PATH', '/nonexistent');
    const plan = planConnection('unix:///run/test/docker.sock', undefined);
    expect(plan.transport).toBe('unix');
    // docker-modem's own constructor would merge DOCKER_HOST and read DOCKER_CERT_PATH's files.
    const modem = createModem(plan.options) as unknown as Record<string, unknown>;
    expect(modem.socketPath).toBe('/run/test/docker.sock');
    expect(modem.host).toBeUndefined();
    expect(modem.protocol).toBe('http');
  });

  it('uses TLS files for tcp:// with TLS and never the environment', () => {
    vi.stubEnv('DOCKER_HOST', 'unix:///var/run/other.sock');
    const files: Record<string, string> = { '/c/ca.pem': 'CA', '/c/cert.pem': 'CERT', '/c/key.pem': 'KEY' };
    const plan = planConnection('tcp://10.0.0.5:2376', { ca: '/c/ca.pem', cert: '/c/cert.pem', key: '/c/key.pem' }, (p) => Buffer.from(files[p]!));
    expect(plan.transport).toBe('tls');
    const modem = createModem(plan.options) as unknown as Record<string, unknown>;
    expect(modem.host).toBe('10.0.0.5');
    expect(modem.port).toBe(2376);
    expect(modem.protocol).toBe('https');
    expect(modem.socketPath).toBeUndefined();
    expect(String(modem.ca)).toBe('CA');
  });

  it('uses plain http for tcp:// without TLS', () => {
    const plan = planConnection('tcp://127.0.0.1:2375', undefined);
    expect(plan).toMatchObject({ transport: 'tcp', options: { host: '127.0.0.1', port: 2375, protocol: 'http' } });
  });

  it('rejects bad hosts and incomplete TLS with usage errors', () => {
    expect(() => planConnection('ftp://x', undefined)).toThrow(/unsupported Docker host scheme/);
    expect(() => planConnection('https://h:2376', { ca: '/ca.pem' })).toThrow(/needs a CA, a certificate and a key/);
    expect(() => planConnection('https://h:2376', { ca: '/nope/ca.pem', cert: '/nope/c', key: '/nope/k' })).toThrow(/cannot read TLS file \/nope\/ca.pem/);
  });
});

describe('ssh:// hosts', () => {
  it('plans an ssh transport with the user, port and socket, and no TCP or env fields', () => {
    vi.stubEnv('DOCKER_HOST', 'tcp://203.0.113.9:2375');
    const plan = planConnection('ssh://deploy@10.0.0.5:2222', undefined);
    expect(plan.transport).toBe('ssh');
    expect(plan.ssh).toEqual({ username: 'deploy', host: '10.0.0.5', port: 2222, socketPath: '/var/run/docker.sock' });
    const modem = createModem(plan.options) as unknown as Record<string, unknown>;
    expect(modem.socketPath).toBeUndefined();
    expect(modem.protocol).toBe('http');
    expect(parseSshHost('ssh://root@[fd00::5]/run/user/1000/docker.sock')).toEqual({ username: 'root', host: 'fd00::5', port: 22, socketPath: '/run/user/1000/docker.sock' });
  });

  it('needs a user and takes no password', () => {
    expect(() => planConnection('ssh://10.0.0.5', undefined)).toThrow(/has no user/);
    expect(() => planConnection('ssh://u:secret@10.0.0.5', undefined)).toThrow(/take no password/);
  });
});
