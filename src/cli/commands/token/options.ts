/** The parsed flags of the token commands: their own file, so index.ts and run.ts never import each other. */

export interface TokenCreateOptions {
  /** The functions it may reach (repeatable). */
  fn: string[];
  /** @default invoke */
  scope?: string;
  /** @default 30d */
  expires?: string;
  name?: string;
}
