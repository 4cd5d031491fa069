/** Every Swarm object name faasctl makes: prefixed `faasctl-`, made of validated or generated parts only. */

/** Service names: `faasctl-run-` + the request id without dashes (44 characters). */
export function invocationServiceName(requestId: string): string {
  return `faasctl-run-${requestId.replaceAll('-', '')}`;
}

export function inputConfigName(requestId: string): string {
  return `faasctl-in-${requestId.replaceAll('-', '')}`;
}

/** Code configs are named by content (per installation), so identical code is published once. */
export function codeConfigName(installation: string, sha256: string): string {
  return `faasctl-code-${installation.slice(0, 12)}-${sha256.slice(0, 36)}`;
}

/** Warm: one per function (the name is stable, so a roll updates it in place). */
export function warmServiceName(installation: string, functionId: string): string {
  return `faasctl-warm-${installation.slice(0, 12)}-${functionId.replaceAll('-', '')}`;
}

/** Bulk: one per request. */
export function bulkServiceName(requestId: string): string {
  return `faasctl-bulk-${requestId.replaceAll('-', '')}`;
}

/** A new secret per token: secrets are immutable, and the name says which one is current. */
export function tokenSecretName(installation: string, ownerId: string, nonce: string): string {
  return `faasctl-token-${installation.slice(0, 12)}-${ownerId.replaceAll('-', '').slice(0, 20)}-${nonce}`;
}

/** Per installation and user (a secret name is the user's own); at most 63 characters. */
export function secretObjectName(installation: string, userId: string, name: string): string {
  return `faasctl-sec-${installation.slice(0, 12)}-${userId.replaceAll('-', '').slice(0, 12)}-${name}`;
}

export function rerunServiceName(name: string, attempt: number): string {
  return `${name.replace(/-a\d+$/, '')}-a${attempt}`;
}

/** A sandbox pool: one service per limit class (memory, CPUs) and installation (issue 23). */
export function poolServiceName(installation: string, className: string): string {
  return `faasctl-pool-${installation.slice(0, 12)}-${className}`;
}
