/**
 * Ids as a terminal shows them: the first 12 characters, as docker shows its 64-digit ids
 * (a UUID's first 12 hex digits and a dash: 11 digits, 2^44 values, unique among any one
 * user's requests in practice). Full ids go to pipes and --json.
 */
export const SHORT_ID_LENGTH = 12;

export function shortId(id: string): string {
  return id.slice(0, SHORT_ID_LENGTH);
}
