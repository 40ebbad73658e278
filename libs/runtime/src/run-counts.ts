import type { RunStatus } from '@orchestron/workflow-core';

/** One count: how many runs of a tenant are in a status. */
export type RunCount = readonly [tenant: string, status: RunStatus, count: number];

/**
 * How many runs each tenant has in each status, kept as the index moves runs between statuses: the metrics read
 * it on every scrape without listing runs, which no longer all sit in memory.
 */
export class RunCounts {
  private readonly byTenant = new Map<string, Map<RunStatus, number>>();

  /** A run went from `before` (absent: it is new to the index) to `after`. */
  move(before: { tenant: string; status: RunStatus } | undefined, after: { tenant: string; status: RunStatus }): void {
    if (before !== undefined) this.add(before.tenant, before.status, -1);
    this.add(after.tenant, after.status, 1);
  }

  entries(): RunCount[] {
    const out: RunCount[] = [];
    for (const [tenant, byStatus] of this.byTenant)
      for (const [status, count] of byStatus) if (count !== 0) out.push([tenant, status, count]);
    return out;
  }

  restore(entries: readonly RunCount[]): void {
    this.byTenant.clear();
    for (const [tenant, status, count] of entries) this.add(tenant, status, count);
  }

  private add(tenant: string, status: RunStatus, delta: number): void {
    const byStatus = this.byTenant.get(tenant) ?? new Map<RunStatus, number>();
    this.byTenant.set(tenant, byStatus);
    byStatus.set(status, (byStatus.get(status) ?? 0) + delta);
  }
}
