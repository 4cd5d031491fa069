import type { RequestRow } from '../../db/requests-repo.js';
import { LOCAL_RUN_COMPONENT } from '../../swarm/local-run-spec.js';
import { LABELS, COMPONENT_LABEL, MANAGED_LABEL, DEPS_LABEL } from '../../swarm/labels.js';
import { LEGACY_OPEN_MS } from '../requests/deadlines.js';
import { unusedDependencyTags } from '../functions/dependencies.js';
import type { GcFacts, GcScope, ReplicaFact, RowFact } from './gc-plan.js';
import type { InvocationDeps } from '../invocations/invocation.js';
import { TERMINAL } from '../../swarm/task-states.js';

/**
 * What gc reads before it decides anything: the installation's objects (only one user's when
 * scoped) and the rows they name. Reads only, so `gc --dry-run` changes nothing.
 */

/** A check container runs for seconds; one older than this belongs to a killed deploy. */
const STALE_CHECK_MS = 10 * 60_000;
/** A `fn run` whose CLI was killed leaves its container; the CLI removes it at once otherwise. */
const ORPHANED_RUN_MS = 10_000;
const ROWS_LIMIT = 10_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function readGcFacts(deps: InvocationDeps, scope: GcScope): Promise<GcFacts> {
  const installation = await deps.store.meta.installationId();
  // Only this installation's objects: another database's invocations are not ours to judge.
  const mine = [`${LABELS.installation}=${installation}`, ...(scope.kind === 'user' ? [`${LABELS.user}=${scope.userId}`] : [])];
  const of = (component: string) => [`${COMPONENT_LABEL}=${component}`, ...mine];
  const [services, tasks, nodes, replicas, replicaTasks, tokens, inputs] = await Promise.all([
    deps.swarm.listServices(of('invocation')),
    deps.swarm.listTasksByLabel(of('invocation')),
    deps.swarm.listNodes(),
    Promise.all([deps.swarm.listServices(of('warm')), deps.swarm.listServices(of('bulk'))]).then(([w, b]) => [...w, ...b]),
    deps.swarm.listTasksByLabel(of('bulk')),
    deps.swarm.listSecrets(of('token')),
    // Input configs carry no user label: scoped, they are matched to the user's rows below.
    deps.swarm.listConfigs([`${COMPONENT_LABEL}=input`, `${LABELS.installation}=${installation}`]),
  ]);
  const lostNodes = new Set(nodes.filter((n) => n.state === 'down' || n.state === 'disconnected').map((n) => n.id));
  const invocationServices = services.map((s) => {
    const own = tasks.filter((t) => t.serviceId === s.id);
    return {
      id: s.id,
      requestId: s.labels[LABELS.request] ?? '',
      userId: s.labels[LABELS.user] ?? '',
      ended: own.length > 0 && own.every((t) => TERMINAL.has(t.state)),
      onLostNode: own.some((t) => !TERMINAL.has(t.state) && lostNodes.has(t.nodeId ?? '')),
    };
  });
  const named = [...services, ...replicas, ...tokens, ...inputs].map((o) => o.labels[LABELS.request] ?? '');
  const rows = await readRows(deps, scope, named);
  const namedUsers = invocationServices.filter((s) => !s.ended && !rows.has(s.requestId) && UUID.test(s.userId)).map((s) => s.userId);
  const replicaServices: ReplicaFact[] = replicas.map((s) => {
    const own = replicaTasks.filter((t) => t.serviceId === s.id);
    return {
      id: s.id,
      component: s.labels[COMPONENT_LABEL] === 'bulk' ? 'bulk' : 'warm',
      functionId: s.labels[LABELS.function] ?? '',
      requestId: s.labels[LABELS.request],
      idle: own.length > 0 && own.every((t) => TERMINAL.has(t.state)),
    };
  });
  const inScope = (requestId: string) => scope.kind === 'all' || rows.has(requestId);
  const containers = await deps.swarm.listContainers([`${MANAGED_LABEL}=true`, ...mine]);
  return {
    now: deps.clock.now().getTime(),
    invocationServices,
    rows,
    deletedUsers: await deletedOf(deps, namedUsers),
    warmFunctions: new Set((await deps.store.functions.warm()).map((f) => f.id)),
    replicaServices,
    tokenSecrets: tokens.map((t) => ({ id: t.id, functionId: t.labels[LABELS.function] ?? '', requestId: t.labels[LABELS.request] })),
    inputConfigs: inputs.map((c) => ({ id: c.id, name: c.name, requestId: c.labels[LABELS.request] ?? '' })).filter((c) => inScope(c.requestId)),
    invocationContainers: containers
      .filter((c) => c.labels[COMPONENT_LABEL] === 'invocation' && c.state === 'exited')
      .map((c) => ({ id: c.id, serviceId: c.labels['com.docker.swarm.service.id'] ?? '' })),
    ...(scope.kind === 'all' ? await installationWide(deps, installation, containers) : { unusedCodeConfigs: [], staleContainers: [], orphanedUserSecrets: [], unusedImages: [] }),
  };
}

async function deletedOf(deps: InvocationDeps, userIds: string[]): Promise<Set<string>> {
  const existing = await deps.store.users.existing([...new Set(userIds)]);
  return new Set(userIds.filter((id) => !existing.has(id)));
}

/** Rows named by objects, and every open row in scope; `expired` by PostgreSQL's clock. */
async function readRows(deps: InvocationDeps, scope: GcScope, named: string[]): Promise<Map<string, RowFact>> {
  const userId = scope.kind === 'user' ? scope.userId : undefined;
  const [byId, open, expired] = await Promise.all([
    deps.store.requests.byIdsAnyUser([...new Set(named.filter((id) => UUID.test(id)))]),
    deps.store.requests.openOf({ userId }, ROWS_LIMIT),
    deps.store.requests.expired({ userId }, LEGACY_OPEN_MS, ROWS_LIMIT),
  ]);
  const late = new Set(expired.map((r) => r.id));
  const fact = (r: RequestRow): RowFact => ({
    id: r.id,
    userId: r.userId,
    type: r.type,
    mode: r.mode,
    open: r.status === 'pending' || r.status === 'running',
    attempt: r.attempt,
    createdAt: r.createdAt.getTime(),
    expired: late.has(r.id),
  });
  // Scoped, another user's row (named by an unlabelled input config) is none of this gc's business.
  const all = [...byId, ...open].filter((r) => !userId || r.userId === userId);
  return new Map(all.map((r) => [r.id, fact(r)]));
}

type WideFacts = Pick<GcFacts, 'unusedCodeConfigs' | 'staleContainers' | 'orphanedUserSecrets' | 'unusedImages'>;

/** What belongs to nobody in particular: only the unscoped gc touches it. */
async function installationWide(deps: InvocationDeps, installation: string, containers: Awaited<ReturnType<InvocationDeps['swarm']['listContainers']>>): Promise<WideFacts> {
  const mine = `${LABELS.installation}=${installation}`;
  const [codes, userSecrets, images, imagesInUse, runs] = await Promise.all([
    deps.swarm.listConfigs([`${COMPONENT_LABEL}=code`, mine]),
    deps.swarm.listSecrets([`${COMPONENT_LABEL}=secret`, mine]),
    deps.swarm.listImages(DEPS_LABEL),
    deps.store.functions.imagesInUse(),
    // `fn run` containers belong to no installation (it needs no database): any gc may take old ended ones.
    deps.swarm.listContainers([`${MANAGED_LABEL}=true`, `${COMPONENT_LABEL}=${LOCAL_RUN_COMPONENT}`]),
  ]);
  const shasInUse = await deps.store.functions.shasInUse(codes.map((c) => c.labels[LABELS.sha256] ?? ''));
  const known = await deps.store.secrets.known(userSecrets.map((s) => s.name));
  const now = deps.clock.now().getTime();
  const staleCheck = containers.filter((c) => c.labels[COMPONENT_LABEL] === 'check' && (c.state !== 'running' || now - c.createdAt.getTime() > STALE_CHECK_MS));
  const oldRuns = runs.filter((c) => c.state !== 'running' && now - c.createdAt.getTime() >= ORPHANED_RUN_MS);
  return {
    unusedCodeConfigs: codes.filter((c) => !shasInUse.has(c.labels[LABELS.sha256] ?? '')).map((c) => ({ id: c.id, name: c.name })),
    staleContainers: [...staleCheck, ...oldRuns].map((c) => c.id),
    // User secrets whose row is gone (their user was deleted): nothing can mount them again.
    orphanedUserSecrets: userSecrets.filter((s) => !known.has(s.name)).map((s) => s.id),
    unusedImages: unusedDependencyTags(images, installation, imagesInUse),
  };
}
