import type { ExitCode } from '../../base/errors.js';

/** One row of `doctor`. */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
  /** One line telling how to fix a failure. */
  fix?: string;
  /** The exit code this failure maps to. */
  exitCode?: ExitCode;
}
