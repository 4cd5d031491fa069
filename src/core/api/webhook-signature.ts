import { createHmac, privateDecrypt, publicEncrypt, constants, timingSafeEqual } from 'node:crypto';

/**
 * Signed webhooks (as GitHub's `X-Hub-Signature-256` and OpenFaaS's signed payloads): the sender
 * sends `X-Faasctl-Signature: sha256=HEX`, the HMAC-SHA256 of the raw body under the function's
 * webhook secret. An HMAC needs the secret itself to check, so a hash cannot be stored: the
 * secret is sealed with the dispatcher's RSA public key (OAEP, SHA-256) and only the dispatcher,
 * which holds the private key as a Swarm secret, can open it. The CLI that sets it cannot read
 * it back, and neither can whoever reads the database.
 */
export const SIGNATURE_HEADER = 'x-faasctl-signature';

export function signBody(secret: string, body: Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Constant-time: a wrong signature's timing tells nothing of the right one. */
export function signatureMatches(secret: string, body: Buffer, header: string | undefined): boolean {
  if (!header || !/^sha256=[0-9a-f]{64}$/i.test(header)) return false;
  const want = Buffer.from(signBody(secret, body).slice(7), 'hex');
  const got = Buffer.from(header.slice(7), 'hex');
  return timingSafeEqual(want, got);
}

export function sealSecret(publicKeyPem: string, secret: string): Buffer {
  return publicEncrypt({ key: publicKeyPem, oaepHash: 'sha256', padding: constants.RSA_PKCS1_OAEP_PADDING }, Buffer.from(secret, 'utf8'));
}

export function openSecret(privateKeyPem: string, sealed: Buffer): string {
  return privateDecrypt({ key: privateKeyPem, oaepHash: 'sha256', padding: constants.RSA_PKCS1_OAEP_PADDING }, sealed).toString('utf8');
}
