/** The parsed flags of the user commands: their own file, so index.ts (registration) and the run files never import each other. */

export interface UserCreateOptions {
  passwordStdin?: boolean;
  bulk?: string;
  prefix?: string;
  concurrency: string;
}

export interface UserUpdateOptions {
  name?: string;
  /** Bulk: every user whose name starts with this. */
  prefix?: string;
  /** Bulk: renames P1..PN to Q1..QN. */
  newPrefix?: string;
  password?: boolean;
  passwordStdin?: boolean;
}

export interface UserDeleteOptions {
  force?: boolean;
  yes?: boolean;
  prefix?: string;
}
