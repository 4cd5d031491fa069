/** The parsed flags of the request commands: their own file, so index.ts (registration) and the run files never import each other. */

export interface RequestListOptions {
  type?: string;
  status?: string;
  since?: string;
  function?: string;
  deletedUsers?: boolean;
  before?: string;
  limit: string;
}
