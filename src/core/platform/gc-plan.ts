/**
 * gc as one plan: the facts gc read (gc-facts.ts) become a list of actions, pure and in the
 * order they are applied. `gc --dry-run` reports the plan's counts; `gc` applies the same plan
 * (gc-apply.ts) and reports what it did, so the two agree unless the cluster changed between.
 */
import { MAX_ATTEMPTS } from '../invocations/node-health.js';
import { LOST_AFTER_MS } from '../invocations/reconcile.js';

/** Whose work gc looks at: the whole installation, or one user's (`--mine`, `--user NAME`). */
export type GcScope = { kind: 'all' } | { kind: 'user'; userId: string; name: string };

export interface ServiceFact {
  id: string;
  requestId: string;
  userId: string;
  /** Every task of it has ended. */
  ended: boolean;
  /** A task still running on a node Swarm reports down. */
  onLostNode: boolean;
}

export interface RowFact {
  id: string;
  userId: string | null;
  type: string;
  mode: 'cold' | 'warm' | 'pool' | null;
  open: boolean;
  attempt: number;
  createdAt: number;
  /** Past its deadline (PostgreSQL's clock). */
  expired: boolean;
}

export interface ReplicaFact {
  id: string;
  component: 'warm' | 'bulk';
  functionId: string;
  requestId?: string;
  /** Bulk: every task ended (its replicas exit when the feeding CLI is gone). */
  idle: boolean;
}

export interface GcFacts {
  now: number;
  invocationServices: ServiceFact[];
  /** Rows of the requests the services and configs name, and every open row in scope. */
  rows: Map<string, RowFact>;
  /** Users that running services without a row name and that no longer exist (deleted). */
  deletedUsers: Set<string>;
  warmFunctions: Set<string>;
  replicaServices: ReplicaFact[];
  tokenSecrets: Array<{ id: string; functionId: string; requestId?: string }>;
  inputConfigs: Array<{ id: string; name: string; requestId: string }>;
  /** Exited invocation containers (scoped like the services). */
  invocationContainers: Array<{ id: string; serviceId: string }>;
  /** Installation-wide only (empty when scoped): */
  unusedCodeConfigs: Array<{ id: string; name: string }>;
  staleContainers: string[];
  orphanedUserSecrets: string[];
  unusedImages: string[];
}

export type GcAction =
  | { kind: 'recover'; requestId: string; serviceId: string }
  | { kind: 'rerun'; requestId: string; serviceId: string }
  | { kind: 'close-expired'; requestId: string; serviceId?: string }
  | { kind: 'close-lost'; requestId: string; serviceId?: string }
  | { kind: 'close-abandoned-bulk'; requestId: string }
  | { kind: 'remove-service'; serviceId: string }
  | { kind: 'remove-secret'; secretId: string }
  | { kind: 'remove-config'; configId: string; name: string }
  | { kind: 'remove-container'; containerId: string }
  | { kind: 'remove-image'; tag: string };

/** The report `gc --json` prints (field names are part of the CLI's contract). */
export interface GcCounts {
  servicesRemoved: number;
  requestsRecovered: number;
  requestsLost: number;
  /** Invocations on a lost node started again elsewhere (at-least-once). */
  requestsRerun: number;
  configsRemoved: number;
  containersRemoved: number;
  secretsRemoved: number;
  /** Dependency image tags of this installation that no version runs in any more. */
  imagesRemoved: number;
}

export const NO_COUNTS: GcCounts = { servicesRemoved: 0, requestsRecovered: 0, requestsLost: 0, requestsRerun: 0, configsRemoved: 0, containersRemoved: 0, secretsRemoved: 0, imagesRemoved: 0 };

/** A bulk row open this long has lost its CLI, lease or not. */
export const ABANDONED_BULK_MS = 6 * 3600_000;

export function planGc(f: GcFacts): GcAction[] {
  const actions: GcAction[] = [];
  /** Requests whose objects stay: a running invocation, a starting one, a live bulk run. */
  const live = new Set<string>();
  const withService = new Set(f.invocationServices.map((s) => s.requestId));
  for (const s of f.invocationServices) {
    const row = f.rows.get(s.requestId);
    const action = serviceAction(s, row, f.deletedUsers);
    if (action) actions.push(action);
    else live.add(s.requestId);
    if (action?.kind === 'rerun') live.add(s.requestId);
  }
  for (const row of f.rows.values()) {
    if (!row.open || withService.has(row.id)) continue;
    const action = rowAction(row, f);
    if (action) actions.push(action);
    else live.add(row.id);
  }
  for (const r of f.replicaServices) {
    if (!replicaNeeded(r, live, f.warmFunctions)) actions.push({ kind: 'remove-service', serviceId: r.id });
  }
  for (const t of f.tokenSecrets) {
    if (!replicaNeeded({ ...t, component: t.requestId ? 'bulk' : 'warm' }, live, f.warmFunctions)) actions.push({ kind: 'remove-secret', secretId: t.id });
  }
  for (const id of f.orphanedUserSecrets) actions.push({ kind: 'remove-secret', secretId: id });
  for (const c of f.inputConfigs) if (!live.has(c.requestId)) actions.push({ kind: 'remove-config', configId: c.id, name: c.name });
  for (const c of f.unusedCodeConfigs) actions.push({ kind: 'remove-config', configId: c.id, name: c.name });
  const services = new Set(f.invocationServices.map((s) => s.id));
  // Only a container whose service is gone: an existing service's logs are still to be read.
  for (const c of f.invocationContainers) if (!services.has(c.serviceId)) actions.push({ kind: 'remove-container', containerId: c.id });
  for (const id of f.staleContainers) actions.push({ kind: 'remove-container', containerId: id });
  for (const tag of f.unusedImages) actions.push({ kind: 'remove-image', tag });
  return actions;
}

function serviceAction(s: ServiceFact, row: RowFact | undefined, deletedUsers: Set<string>): GcAction | undefined {
  const ids = { requestId: s.requestId, serviceId: s.id };
  if (row?.open) {
    if (s.ended) return { kind: 'recover', ...ids };
    // An --async job on a lost node has no CLI to run it again: gc does, or ends it after its last attempt.
    if (s.onLostNode) return row.attempt < MAX_ATTEMPTS ? { kind: 'rerun', ...ids } : { kind: 'close-lost', ...ids };
    if (row.expired) return { kind: 'close-expired', ...ids };
    return undefined;
  }
  // No row and still running: waste when its user was deleted (the rows went with them, and
  // `faasctl gc` finishes a user delete the engine interrupted); otherwise not ours to judge.
  if (!row && !s.ended && !deletedUsers.has(s.userId)) return undefined;
  return { kind: 'remove-service', serviceId: s.id };
}

function rowAction(row: RowFact, f: GcFacts): GcAction | undefined {
  if (row.expired) return { kind: 'close-expired', requestId: row.id };
  if (row.type === 'fn.invoke.bulk') {
    const idle = f.replicaServices.some((r) => r.requestId === row.id && r.idle);
    return idle || f.now - row.createdAt >= ABANDONED_BULK_MS ? { kind: 'close-abandoned-bulk', requestId: row.id } : undefined;
  }
  // A warm or pool call has no service of its own: only its deadline tells it was abandoned.
  if (row.type === 'fn.invoke' && row.mode !== 'warm' && row.mode !== 'pool' && f.now - row.createdAt >= LOST_AFTER_MS) return { kind: 'close-lost', requestId: row.id };
  return undefined;
}

function replicaNeeded(r: Pick<ReplicaFact, 'component' | 'functionId' | 'requestId'>, live: Set<string>, warm: Set<string>): boolean {
  return r.requestId ? live.has(r.requestId) : r.component === 'warm' && warm.has(r.functionId);
}

/** What the plan would do, counted as the report counts it. */
export function countPlan(actions: GcAction[]): GcCounts {
  const c = { ...NO_COUNTS };
  for (const a of actions) {
    switch (a.kind) {
      case 'recover':
        c.requestsRecovered++;
        c.servicesRemoved++;
        break;
      case 'rerun':
        c.requestsRerun++;
        break;
      case 'close-expired':
      case 'close-lost':
        c.requestsLost++;
        if (a.serviceId) c.servicesRemoved++;
        break;
      case 'close-abandoned-bulk':
        c.requestsLost++;
        break;
      case 'remove-service':
        c.servicesRemoved++;
        break;
      case 'remove-secret':
        c.secretsRemoved++;
        break;
      case 'remove-config':
        c.configsRemoved++;
        break;
      case 'remove-container':
        c.containersRemoved++;
        break;
      case 'remove-image':
        c.imagesRemoved++;
        break;
    }
  }
  return c;
}
