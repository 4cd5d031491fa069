import { UsageError } from '../../base/errors.js';
import { MAX_CODE_BYTES } from './code-configs.js';

/**
 * Code that is more than one file (issue 19): a directory with its sibling modules, packages
 * and data files, or an OpenWhisk-style zip, kept as one zip archive. The version stores the
 * archive (bytea) and its entry module's path in it; `code` stays the entry module's text, so
 * the syntax check, `fn show` and an unchanged update read it like a single file. The runtime
 * unpacks the archive into the container's tmpfs /tmp and runs the function from there
 * (runtimes/python/faasctl_runtime/code_archive.py).
 */
export interface CodeArchive {
  /** The zip, byte for byte as published (its sha256 names the version's code). */
  bytes: Buffer;
  /** The entry module's path inside the archive, e.g. `handler.py`, `__main__.py`. */
  module: string;
  /** What it unpacks to: bounded by the tmpfs it is unpacked into. */
  unpackedBytes: number;
  files: number;
}

/** tmpfs /tmp is 64 MiB; half of it is left to the function. Same number as the runtime's. */
export const MAX_UNPACKED_BYTES = 32 * 1024 * 1024;

/** The size limits, said in the refusal: Swarm's config size for the zip, the tmpfs for what it unpacks to. */
export function checkArchiveSize(archive: CodeArchive, source: string): void {
  if (archive.bytes.length > MAX_CODE_BYTES) {
    throw new UsageError(
      `${source} is ${archive.bytes.length} bytes zipped (${archive.files} files); the limit is ${MAX_CODE_BYTES} bytes zipped (a Swarm config holds at most 500 KiB) and ${MAX_UNPACKED_BYTES} unpacked`,
      { code: 'code_too_large', hint: 'leave large data (models, data sets) out of the code: install it with requirements, or pass it as input' },
    );
  }
  if (archive.unpackedBytes > MAX_UNPACKED_BYTES) {
    throw new UsageError(`${source} unpacks to ${archive.unpackedBytes} bytes; the limit is ${MAX_UNPACKED_BYTES} unpacked (the function's /tmp is 64 MiB)`, {
      code: 'code_too_large',
      hint: 'leave large data (models, data sets) out of the code',
    });
  }
}
