import { describe, expect, it } from 'vitest';
import { redactUrl, resolveConfig } from '../../src/config/resolve.js';
import type { ConfigFile } from '../../src/config/types.js';

const file: ConfigFile = {
  currentContext: 'lab',
  contexts: {
    lab: { host: 'tcp://10.0.0.5:2376', database: 'postgres://lab:pw@10.0.0.5/faas', tls: { ca: '/lab/ca.pem', cert: '/lab/cert.pem', key: '/lab/key.pem' } },
    prod: { host: 'ssh://ops@prod', database: 'postgres://prod:pw@prod/faas' },
  },
};

describe('resolveConfig', () => {
  it('falls back to the local socket and no database with nothing configured', () => {
    const cfg = resolveConfig({ flags: {}, env: {}, file: { contexts: {} } });
    expect(cfg.contextName).toEqual({ value: 'default', source: 'default' });
    expect(cfg.host).toEqual({ value: 'unix:///var/run/docker.sock', source: 'default' });
    expect(cfg.databaseUrl).toEqual({ value: undefined, source: 'default' });
  });

  it('uses the current context of the file', () => {
    const cfg = resolveConfig({ flags: {}, env: {}, file });
    expect(cfg.contextName).toEqual({ value: 'lab', source: 'file' });
    expect(cfg.host).toEqual({ value: 'tcp://10.0.0.5:2376', source: 'context:lab' });
    expect(cfg.tls.value?.ca).toBe('/lab/ca.pem');
  });

  it('lets DOCKER_HOST and DATABASE_URL beat the current context of the file', () => {
    const cfg = resolveConfig({ flags: {}, env: { DOCKER_HOST: 'tcp://1.2.3.4:2375', DATABASE_URL: 'postgres://x@y/z' }, file });
    expect(cfg.host).toEqual({ value: 'tcp://1.2.3.4:2375', source: 'env:DOCKER_HOST' });
    expect(cfg.databaseUrl).toEqual({ value: 'postgres://x@y/z', source: 'env:DATABASE_URL' });
    expect(cfg.tls).toEqual({ value: undefined, source: 'default' });
  });

  it('lets an explicitly chosen context beat DOCKER_HOST, like docker --context', () => {
    const cfg = resolveConfig({ flags: { context: 'prod' }, env: { DOCKER_HOST: 'tcp://1.2.3.4:2375' }, file });
    expect(cfg.host).toEqual({ value: 'ssh://ops@prod', source: 'context:prod' });
    const viaEnv = resolveConfig({ flags: {}, env: { FAASCTL_CONTEXT: 'prod', DOCKER_HOST: 'tcp://1.2.3.4:2375' }, file });
    expect(viaEnv.contextName.source).toBe('env:FAASCTL_CONTEXT');
    expect(viaEnv.host.value).toBe('ssh://ops@prod');
  });

  it('puts flags over FAASCTL_* over everything else', () => {
    const env = { FAASCTL_HOST: 'unix:///env.sock', DOCKER_HOST: 'tcp://d:1', FAASCTL_DATABASE_URL: 'postgres://env/db' };
    expect(resolveConfig({ flags: {}, env, file }).host).toEqual({ value: 'unix:///env.sock', source: 'env:FAASCTL_HOST' });
    const cfg = resolveConfig({ flags: { host: 'unix:///flag.sock', db: 'postgres://flag/db' }, env, file });
    expect(cfg.host).toEqual({ value: 'unix:///flag.sock', source: 'flag' });
    expect(cfg.databaseUrl).toEqual({ value: 'postgres://flag/db', source: 'flag' });
  });

  it('takes TLS files from DOCKER_CERT_PATH when the host does not come from a context', () => {
    const cfg = resolveConfig({ flags: { host: 'tcp://h:2376' }, env: { DOCKER_CERT_PATH: '/certs/' }, file: { contexts: {} } });
    expect(cfg.tls).toEqual({ value: { ca: '/certs/ca.pem', cert: '/certs/cert.pem', key: '/certs/key.pem' }, source: 'env:DOCKER_CERT_PATH' });
  });

  it('ignores empty values', () => {
    const cfg = resolveConfig({ flags: { host: '' }, env: { DOCKER_HOST: '' }, file: { contexts: {} } });
    expect(cfg.host.source).toBe('default');
  });
});

describe('redactUrl', () => {
  it('hides the password and keeps the rest', () => {
    expect(redactUrl('postgres://faas:s3cret@db:5432/faas')).toBe('postgres://faas:***@db:5432/faas');
    expect(redactUrl('postgres://db/faas')).toBe('postgres://db/faas');
    expect(redactUrl(undefined)).toBeUndefined();
  });
});

describe('resolveConfig: ssh settings', () => {
  const sshFile: ConfigFile = {
    currentContext: 'lab',
    contexts: { lab: { host: 'ssh://root@lab', database: 'postgres://u:p@127.0.0.1/faas', databaseViaSsh: true, ssh: { key: '/k/lab', knownHosts: '/k/known' } } },
  };

  it("takes the key, known_hosts and database-through-SSH from the host's context", () => {
    const cfg = resolveConfig({ flags: {}, env: { SSH_AUTH_SOCK: '/run/agent' }, file: sshFile });
    expect(cfg.ssh).toEqual({ key: { value: '/k/lab', source: 'context:lab' }, knownHosts: { value: '/k/known', source: 'context:lab' }, insecureIgnoreHostKey: false, agentSocket: '/run/agent' });
    expect(cfg.databaseViaSsh).toEqual({ value: true, source: 'context:lab' });
  });

  it('lets flags and env win, and drops the context settings when the host comes from elsewhere', () => {
    const cfg = resolveConfig({ flags: { sshKey: '/flag/key', sshInsecureIgnoreHostKey: true }, env: { FAASCTL_DB_VIA_SSH: '0' }, file: sshFile });
    expect(cfg.ssh.key).toEqual({ value: '/flag/key', source: 'flag' });
    expect(cfg.ssh.insecureIgnoreHostKey).toBe(true);
    expect(cfg.databaseViaSsh).toEqual({ value: false, source: 'env:FAASCTL_DB_VIA_SSH' });
    const other = resolveConfig({ flags: { host: 'ssh://me@elsewhere', db: 'postgres://x@y/z' }, env: {}, file: sshFile });
    expect(other.ssh.key.value).toBeUndefined();
    expect(other.databaseViaSsh.value).toBe(false);
  });
});
