import { createHash, createHmac } from 'node:crypto';

/** What a known_hosts file says about the key a server presented. */
export type HostKeyVerdict =
  | { status: 'match'; line: number }
  | { status: 'unknown' }
  /** The host is listed, but with other keys: a reinstalled server, or someone in the middle. */
  | { status: 'changed'; line: number }
  | { status: 'revoked'; line: number };

interface Entry {
  line: number;
  marker?: string;
  hosts: string;
  keyType: string;
  key: string;
}

/** OpenSSH's fingerprint of a key blob: `SHA256:` and unpadded base64, as `ssh-keygen -l` prints. */
export function fingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The algorithm name at the start of an SSH public key blob, e.g. `ssh-ed25519`. */
export function keyTypeOf(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return 'unknown';
  const len = keyBlob.readUInt32BE(0);
  return keyBlob.subarray(4, 4 + len).toString('latin1');
}

/** The name known_hosts uses for a host: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/**
 * Checks a server's key against the text of known_hosts files (OpenSSH format: plain and
 * hashed names, patterns with * ? and !, `@revoked`). `@cert-authority` lines are skipped:
 * faasctl does not verify host certificates.
 */
export function checkHostKey(text: string, host: string, port: number, keyBlob: Buffer): HostKeyVerdict {
  const name = knownHostsName(host, port);
  const key = keyBlob.toString('base64');
  let match: number | undefined;
  let other: number | undefined;
  for (const entry of parseKnownHosts(text)) {
    if (entry.marker === '@cert-authority' || !hostMatches(entry.hosts, name)) continue;
    if (entry.marker === '@revoked') {
      if (entry.key === key) return { status: 'revoked', line: entry.line };
      continue;
    }
    if (entry.key === key) match ??= entry.line;
    else other ??= entry.line;
  }
  if (match !== undefined) return { status: 'match', line: match };
  if (other !== undefined) return { status: 'changed', line: other };
  return { status: 'unknown' };
}

/** Key types listed for a host, so the handshake can prefer a key that can be verified. */
export function knownKeyTypes(text: string, host: string, port: number): string[] {
  const name = knownHostsName(host, port);
  const types = parseKnownHosts(text)
    .filter((e) => !e.marker && hostMatches(e.hosts, name))
    .map((e) => e.keyType);
  return [...new Set(types)];
}

function parseKnownHosts(text: string): Entry[] {
  const entries: Entry[] = [];
  text.split('\n').forEach((raw, i) => {
    const fields = raw.trim().split(/\s+/);
    if (!fields[0] || fields[0].startsWith('#')) return;
    const marker = fields[0].startsWith('@') ? fields.shift() : undefined;
    const [hosts, keyType, key] = fields;
    if (hosts && keyType && key) entries.push({ line: i + 1, marker, hosts, keyType, key });
  });
  return entries;
}

function hostMatches(patterns: string, name: string): boolean {
  if (patterns.startsWith('|1|')) return hashedMatches(patterns, name);
  let matched = false;
  for (const pattern of patterns.split(',')) {
    const negated = pattern.startsWith('!');
    if (!globMatches(negated ? pattern.slice(1) : pattern, name)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

/** `|1|salt|hash`: HMAC-SHA1 of the name keyed by the salt (ssh-keygen -H). */
function hashedMatches(field: string, name: string): boolean {
  const [, , salt, hash] = field.split('|');
  if (!salt || !hash) return false;
  return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
}

function globMatches(pattern: string, name: string): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`, 'i').test(name);
}
