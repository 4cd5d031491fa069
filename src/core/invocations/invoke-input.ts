import type { CurrentFunction } from '../../db/functions-repo.js';
import { UsageError } from '../../base/errors.js';
import { MAX_CODE_BYTES } from '../functions/code-configs.js';
import type { Actor } from '../users/accounts.js';

/** An invocation's input, checked, and the request row every path (cold, warm, pool) writes. */

/** Input travels as a Swarm config, whose size limit it shares with code. */
export const MAX_INPUT_BYTES = MAX_CODE_BYTES;
/** Inputs up to this size are kept in the request row's params, as the old system kept its parameters. */
const PARAMS_INPUT_LIMIT = 4096;

/** A warm replica reads input from the request body, so it takes more than a config holds. */
export const MAX_WARM_INPUT_BYTES = 16 * 1024 * 1024;

export function validateInput(raw: string | undefined, limit = MAX_INPUT_BYTES): string {
  if (raw === undefined || raw.trim() === '') return 'null';
  const bytes = Buffer.byteLength(raw);
  if (bytes > limit) {
    const hint =
      limit === MAX_INPUT_BYTES
        ? 'make the function warm (faasctl fn scale NAME 1) for inputs up to 16 MiB, or pass a reference (a URL or a path the function can reach)'
        : 'pass a reference (a URL or a path the function can reach) instead of the data';
    throw new UsageError(`input is ${bytes} bytes; the limit is ${limit} (${limit === MAX_INPUT_BYTES ? '500 KiB' : '16 MiB'})`, { code: 'input_too_large', hint });
  }
  try {
    JSON.parse(raw);
  } catch (err) {
    throw new UsageError(`input is not valid JSON: ${(err as Error).message}`, { code: 'invalid_input', hint: `check it with: node -e 'JSON.parse(require("fs").readFileSync(0))' < FILE` });
  }
  return raw;
}

export function invokeRow(actor: Actor, fn: CurrentFunction, input: string, idempotency?: { key: string; inputSha256: string }) {
  const v = fn.current;
  const inputBytes = Buffer.byteLength(input);
  return {
    ...(idempotency ? { idempotencyKey: idempotency.key, inputSha256: idempotency.inputSha256 } : {}),
    userId: actor.id,
    // Through the HTTP API (issue 25): the row names the token it came with.
    ...(actor.via ? { via: actor.via.kind, ...(actor.via.kind === 'api' ? { tokenId: actor.via.tokenId, tokenName: actor.via.tokenName } : {}) } : {}),
    type: 'fn.invoke',
    params: { name: fn.name, version: v.version, inputBytes, ...(inputBytes <= PARAMS_INPUT_LIMIT ? { input: JSON.parse(input) } : {}) },
    functionId: fn.id,
    functionName: fn.name,
    functionVersion: v.version,
  };
}
