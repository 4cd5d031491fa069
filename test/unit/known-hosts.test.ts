import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkHostKey, fingerprint, keyTypeOf, knownKeyTypes } from '../../src/swarm/known-hosts.js';

/** An ssh-ed25519 public key blob as sent on the wire: string type, string key. */
function blob(seed: number): Buffer {
  const type = Buffer.from('ssh-ed25519');
  const key = Buffer.alloc(32, seed);
  const len = (n: number) => Buffer.from([0, 0, 0, n]);
  return Buffer.concat([len(type.length), type, len(key.length), key]);
}

const A = blob(1);
const B = blob(2);
const line = (hosts: string, key: Buffer, marker = '') => `${marker ? `${marker} ` : ''}${hosts} ssh-ed25519 ${key.toString('base64')} comment`;

describe('known_hosts', () => {
  it('matches plain names, [host]:port for other ports, lists and patterns', () => {
    expect(checkHostKey(line('10.0.0.5', A), '10.0.0.5', 22, A)).toEqual({ status: 'match', line: 1 });
    expect(checkHostKey(line('[10.0.0.5]:2222', A), '10.0.0.5', 2222, A).status).toBe('match');
    expect(checkHostKey(line('10.0.0.5', A), '10.0.0.5', 2222, A).status).toBe('unknown');
    expect(checkHostKey(line('web,10.0.0.*', A), '10.0.0.9', 22, A).status).toBe('match');
    expect(checkHostKey(line('10.0.0.*,!10.0.0.9', A), '10.0.0.9', 22, A).status).toBe('unknown');
    expect(checkHostKey(`# comment\n\n${line('other', B)}\n${line('h', A)}`, 'h', 22, A)).toEqual({ status: 'match', line: 4 });
  });

  it('matches hashed names (ssh-keygen -H)', () => {
    const salt = randomBytes(20);
    const hash = createHmac('sha1', salt).update('[h.example]:2200').digest('base64');
    const hashed = line(`|1|${salt.toString('base64')}|${hash}`, A);
    expect(checkHostKey(hashed, 'h.example', 2200, A).status).toBe('match');
    expect(checkHostKey(hashed, 'h.example', 22, A).status).toBe('unknown');
  });

  it('says changed when the host is listed with another key, and revoked for @revoked', () => {
    expect(checkHostKey(`${line('x', B)}\n${line('h', B)}`, 'h', 22, A)).toEqual({ status: 'changed', line: 2 });
    expect(checkHostKey(`${line('h', A)}\n${line('*', A, '@revoked')}`, 'h', 22, A)).toEqual({ status: 'revoked', line: 2 });
    expect(checkHostKey(line('h', A, '@cert-authority'), 'h', 22, A).status).toBe('unknown');
    expect(checkHostKey('', 'h', 22, A).status).toBe('unknown');
  });

  it('fingerprints like ssh-keygen -l and reads the key type', () => {
    expect(fingerprint(A)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(fingerprint(A)).not.toBe(fingerprint(B));
    expect(keyTypeOf(A)).toBe('ssh-ed25519');
    expect(knownKeyTypes(`${line('h', A)}\nh ssh-rsa AAAA\nother ecdsa-sha2-nistp256 AAAA`, 'h', 22)).toEqual(['ssh-ed25519', 'ssh-rsa']);
  });
});
