import type { Database, Queryable } from './database.js';
import { functionsRepo } from './functions-repo.js';
import { metaRepo } from './meta-repo.js';
import { pruneRepo } from './prune-repo.js';
import { requestsRepo } from './requests-repo.js';
import { secretsRepo } from './secrets-repo.js';
import { sessionsRepo } from './sessions-repo.js';
import { statsRepo } from './stats-repo.js';
import { usersRepo } from './users-repo.js';

export function repos(db: Queryable) {
  return {
    users: usersRepo(db),
    sessions: sessionsRepo(db),
    requests: requestsRepo(db),
    functions: functionsRepo(db),
    meta: metaRepo(db),
    stats: statsRepo(db),
    secrets: secretsRepo(db),
    prune: pruneRepo(db),
  };
}

export type Repos = ReturnType<typeof repos>;

/** What use cases get: repositories, and a way to run several writes as one transaction. */
export interface Store extends Repos {
  transaction<T>(fn: (tx: Repos) => Promise<T>): Promise<T>;
}

export function createStore(db: Database): Store {
  return { ...repos(db), transaction: (fn) => db.withTransaction((tx) => fn(repos(tx))) };
}
