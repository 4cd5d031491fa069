import type { ContainerInfo, ContainerStats, NamedObject, ServiceInfo, SwarmNode, SwarmTask } from './client.js';

/* Engine API documents → faasctl's types. The API's documents are loosely typed in @types/dockerode. */
/* eslint-disable @typescript-eslint/no-explicit-any */

export function toSwarmNode(n: Record<string, any>): SwarmNode {
  return {
    id: n.ID ?? '',
    hostname: n.Description?.Hostname ?? '',
    role: n.Spec?.Role === 'manager' ? 'manager' : 'worker',
    state: n.Status?.State ?? 'unknown',
    availability: n.Spec?.Availability ?? 'unknown',
    leader: Boolean(n.ManagerStatus?.Leader),
    address: n.Status?.Addr,
    cpus: (n.Description?.Resources?.NanoCPUs ?? 0) / 1e9,
    memoryBytes: n.Description?.Resources?.MemoryBytes ?? 0,
  };
}

export function toSwarmTask(t: Record<string, any>): SwarmTask {
  return {
    id: t.ID ?? '',
    state: t.Status?.State ?? 'unknown',
    desiredState: t.DesiredState ?? 'unknown',
    message: t.Status?.Message ?? '',
    error: t.Status?.Err || undefined,
    containerId: t.Status?.ContainerStatus?.ContainerID || undefined,
    nodeId: t.NodeID || undefined,
    serviceId: t.ServiceID || undefined,
    exitCode: typeof t.Status?.ContainerStatus?.ExitCode === 'number' ? t.Status.ContainerStatus.ExitCode : undefined,
    updatedAt: t.UpdatedAt ? new Date(t.UpdatedAt) : undefined,
    createdAt: t.CreatedAt ? new Date(t.CreatedAt) : undefined,
    statusAt: t.Status?.Timestamp ? new Date(t.Status.Timestamp) : undefined,
    ports: (t.Status?.PortStatus?.Ports ?? []).filter((p: Record<string, any>) => p.PublishedPort).map((p: Record<string, any>) => ({ target: p.TargetPort, published: p.PublishedPort })),
    labels: t.Spec?.ContainerSpec?.Labels ?? {},
  };
}

/** Services and secrets: both carry ID plus Spec.Name and Spec.Labels. */
export function toNamedObject(o: Record<string, any>): NamedObject {
  return { id: o.ID ?? '', name: o.Spec?.Name ?? '', labels: o.Spec?.Labels ?? {} };
}

export function statusCode(err: unknown): number | undefined {
  return (err as { statusCode?: number }).statusCode;
}

export function toServiceInfo(o: Record<string, any>): ServiceInfo {
  return {
    ...toNamedObject(o),
    createdAt: new Date(o.CreatedAt ?? 0),
    env: o.Spec?.TaskTemplate?.ContainerSpec?.Env ?? [],
    replicas: o.Spec?.Mode?.Replicated?.Replicas,
    updateState: o.UpdateStatus?.State || undefined,
    updateMessage: o.UpdateStatus?.Message || undefined,
    spec: o.Spec,
  };
}

export function toContainerInfo(c: Record<string, any>): ContainerInfo {
  return { id: c.Id ?? '', name: String(c.Names?.[0] ?? '').replace(/^\//, ''), state: c.State ?? 'unknown', labels: c.Labels ?? {}, createdAt: new Date((c.Created ?? 0) * 1000) };
}

export function toContainerStats(s: Record<string, any>): ContainerStats {
  const nets = Object.values(s.networks ?? {}) as Array<Record<string, number>>;
  // cgroup v2 counts the page cache in usage; `docker stats` subtracts inactive_file, so do we.
  const usage = s.memory_stats?.usage ?? 0;
  const cache = s.memory_stats?.stats?.inactive_file ?? s.memory_stats?.stats?.total_inactive_file ?? 0;
  return {
    cpuNs: s.cpu_stats?.cpu_usage?.total_usage ?? 0,
    systemCpuNs: s.cpu_stats?.system_cpu_usage ?? 0,
    onlineCpus: s.cpu_stats?.online_cpus ?? s.cpu_stats?.cpu_usage?.percpu_usage?.length ?? 1,
    memoryBytes: Math.max(0, usage - cache),
    memoryLimitBytes: s.memory_stats?.limit ?? 0,
    rxBytes: nets.reduce((sum, n) => sum + (n.rx_bytes ?? 0), 0),
    txBytes: nets.reduce((sum, n) => sum + (n.tx_bytes ?? 0), 0),
  };
}

/** Engine API label filters: `{"label": ["k=v", "k"]}`. */
export function labelFilter(labels: string[]): string {
  return JSON.stringify({ label: labels });
}
