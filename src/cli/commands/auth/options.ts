/** The parsed flags of the auth commands: their own file, so index.ts (registration) and the run files never import each other. */

export interface LoginOptions {
  passwordStdin?: boolean;
  ttl: string;
}
