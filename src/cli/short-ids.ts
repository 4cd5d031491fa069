/**
 * Ids as a terminal shows them: the first 12 characters, as docker shows its 64-digit ids
 * (a UUID's first 12 characters hold 11 hex digits, 2^44 values: unique among any one user's
 * requests in practice). Full ids go to pipes and --json; any unique prefix is accepted back
 * (core/requests/request-ids.ts).
 */
export const SHORT_ID_LENGTH = 12;

export function shortId(id: string): string {
  return id.slice(0, SHORT_ID_LENGTH);
}

/** A table cell for an id: short on a terminal, whole when piped. */
export function idCell(io: { stdoutIsTTY: boolean }, id: string): string {
  return io.stdoutIsTTY ? shortId(id) : id;
}
