import type { Database, Queryable } from './database.js';
import { functionsRepo } from './functions-repo.js';
import { logsRepo } from './logs-repo.js';
import { metaRepo } from './meta-repo.js';
import { pruneRepo } from './prune-repo.js';
import { requestsRepo } from './requests-repo.js';
import { secretsRepo } from './secrets-repo.js';
import { sessionsRepo } from './sessions-repo.js';
import { statsRepo } from './stats-repo.js';
import { usersRepo } from './users-repo.js';
import { queueRepo } from './queue-repo.js';
import { schedulesRepo } from './schedules-repo.js';
import { tokensRepo } from './tokens-repo.js';
import { poolRepo } from './pool-repo.js';
import { bulkRunsRepo } from './bulk-runs-repo.js';
import { advisoryLocks, type AdvisoryLocks } from './locks.js';

export function repos(db: Queryable) {
  return {
    users: usersRepo(db),
    sessions: sessionsRepo(db),
    requests: requestsRepo(db),
    functions: functionsRepo(db),
    meta: metaRepo(db),
    stats: statsRepo(db),
    secrets: secretsRepo(db),
    queue: queueRepo(db),
    schedules: schedulesRepo(db),
    tokens: tokensRepo(db),
    logs: logsRepo(db),
    prune: pruneRepo(db),
    pool: poolRepo(db),
    bulkRuns: bulkRunsRepo(db),
  };
}

export type Repos = ReturnType<typeof repos>;

/** What use cases get: repositories, and a way to run several writes as one transaction. */
export interface Store extends Repos {
  transaction<T>(fn: (tx: Repos) => Promise<T>): Promise<T>;
  locks: AdvisoryLocks;
  /** A connection of its own, for the dispatcher's leadership lock. */
  hold: Database['hold'];
}

export function createStore(db: Database): Store {
  return { ...repos(db), transaction: (fn) => db.withTransaction((tx) => fn(repos(tx))), locks: advisoryLocks(db), hold: () => db.hold() };
}
