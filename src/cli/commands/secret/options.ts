/** The parsed flags of the secret commands: their own file, so index.ts (registration) and the run files never import each other. */

export interface SecretCreateOptions {
  /** Read the value from this file instead of stdin. */
  fromFile?: string;
}
