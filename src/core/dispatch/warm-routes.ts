import type { CurrentFunction } from '../../db/functions-repo.js';
import type { ReplicaTransport } from '../../base/ports.js';
import { warmService } from '../functions/warm-replicas.js';
import type { InvokeDeps } from '../invocations/invoke.js';
import type { ReplicaRouter } from '../invocations/replica-router.js';
import { openRouter } from '../invocations/warm-invoke.js';

/** How long a router is used before the function's warm service and token are looked up again. */
const RECHECK_MS = 5_000;

interface Route {
  serviceId: string;
  token: string;
  router: ReplicaRouter;
  transport: ReplicaTransport;
  checkedAt: number;
}

/**
 * The dispatcher's routers to warm replicas, one per function, shared by every attempt in
 * flight and kept between them: opening one costs a few engine calls, more than the call it
 * routes. A scaled, rolled or removed service is noticed within RECHECK_MS (and at once by the
 * router itself when a replica stops answering).
 */
export class WarmRoutes {
  private readonly routes = new Map<string, Promise<Route | undefined>>();

  constructor(
    private readonly deps: InvokeDeps,
    /** Connections per replica: the dispatcher's parallelism. */
    private readonly sockets: number,
  ) {}

  /** A router with at least one replica up, or undefined (the attempt runs cold). */
  async routerFor(fn: CurrentFunction): Promise<ReplicaRouter | undefined> {
    if (fn.warmReplicas === 0) return undefined;
    const known = await this.routes.get(fn.id);
    if (known && this.deps.monotonic() - known.checkedAt < RECHECK_MS) return known.router.size ? known.router : undefined;
    const next = this.check(fn, known);
    this.routes.set(fn.id, next);
    const route = await next.catch((err: Error) => {
      this.routes.delete(fn.id);
      throw err;
    });
    return route?.router.size ? route.router : undefined;
  }

  close(): void {
    for (const pending of this.routes.values()) void pending.then((r) => r?.transport.close()).catch(() => undefined);
    this.routes.clear();
  }

  private async check(fn: CurrentFunction, known: Route | undefined): Promise<Route | undefined> {
    const [serviceId, token] = await Promise.all([warmService(this.deps, fn), this.deps.store.functions.warmToken(fn.id)]);
    if (known && known.serviceId === serviceId && known.token === token) {
      await known.router.refresh();
      return { ...known, checkedAt: this.deps.monotonic() };
    }
    known?.transport.close();
    if (!serviceId || !token) return undefined;
    const { router, transport } = await openRouter(this.deps, serviceId, token, this.sockets);
    return { serviceId, token, router, transport, checkedAt: this.deps.monotonic() };
  }
}
