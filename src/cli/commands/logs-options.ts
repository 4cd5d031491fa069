/** The parsed flags of `faasctl logs`: their own file, so logs.ts (registration) and logs-run.ts never import each other. */
export interface LogsOptions {
  follow?: boolean;
  since?: string;
  tail: string;
  status?: string;
}
