/** The parsed flags of `apply` and `export`: their own file, so apply.ts (registration) and the run files never import each other. */
export interface ApplyOptions {
  file: string;
  dryRun?: boolean;
  prune?: boolean;
  yes?: boolean;
  force?: boolean;
}

export interface ExportOptions {
  dir?: string;
}
