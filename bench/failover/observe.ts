// What the failover bench watches while it runs: the runs' completions (from the event store) and the partitions an
// orchestrator says it owns (from its log).
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { partitionForKey } from '@orchestron/bus-kafka';
import type { Completion } from './timeline.ts';
import { pollEvery } from './poll-loop.ts';
import type { PollLoop } from './poll-loop.ts';

/** Every RunCompleted appended to the stack's store, polled every 100 ms, with the partition of its run. */
export class CompletionWatch {
  readonly completions: Completion[] = [];
  private readonly client: pg.Client;
  private readonly schema: string;
  private readonly partitions: number;
  private position = 0;
  private loop: PollLoop | undefined;

  constructor(pgUrl: string, schema: string, partitions: number) {
    this.client = new pg.Client({ connectionString: pgUrl });
    this.schema = schema;
    this.partitions = partitions;
  }

  async start(): Promise<void> {
    await this.client.connect();
    this.loop = pollEvery(() => this.poll());
  }

  async stop(): Promise<void> {
    await this.loop?.stop();
    await this.client.end().catch(() => undefined);
  }

  private async poll(): Promise<void> {
    const { rows } = await this.client.query<{ position: string; stream_id: string; type: string; at: number }>(
      `SELECT position, stream_id, type, extract(epoch from recorded_at) * 1000 AS at
         FROM "${this.schema}".events WHERE position > $1 ORDER BY position LIMIT 20000`,
      [this.position],
    );
    for (const row of rows) {
      this.position = Math.max(this.position, Number(row.position));
      if (row.type !== 'RunCompleted' || !row.stream_id.startsWith('run-')) continue;
      const runId = row.stream_id.slice('run-'.length);
      this.completions.push({ at: Number(row.at), partition: partitionForKey(runId, this.partitions) });
    }
  }
}

/** One "partitions assigned" line of an orchestrator's log: when, what it owns, what it gained. */
export interface Ownership {
  readonly at: number;
  readonly owned: readonly number[];
  readonly gained: readonly number[];
}

export function ownershipLog(logFile: string): Ownership[] {
  const out: Ownership[] = [];
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.startsWith('{') || !line.includes('"partitions assigned"')) continue;
    const entry = JSON.parse(line) as { time: string; partitions: string; gained: number[] };
    const owned = entry.partitions === 'none' ? [] : entry.partitions.split(',').map(Number);
    out.push({ at: Date.parse(entry.time), owned, gained: entry.gained });
  }
  return out;
}

/** Waits until `check` answers something, polling every 100 ms, for `timeoutMs` at most. */
export async function waitFor<T>(check: () => T | undefined, timeoutMs: number): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = check();
    if (found !== undefined || Date.now() > deadline) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Starts runs at a steady rate (open loop: it does not wait for them, so runs stuck on a dead instance's partitions
 * do not hold back the others). Each start is a vendor payment through the API.
 */
export function steadyLoad(
  start: (key: string) => Promise<unknown>,
  perSecond: number,
): { stop(): Promise<{ started: number; failed: number }> } {
  let started = 0;
  let failed = 0;
  const pending = new Set<Promise<unknown>>();
  const tag = `${process.pid}-${Date.now().toString(36)}`;
  const timer = setInterval(() => {
    const call = start(`failover-${tag}-${started++}`).catch(() => {
      failed++;
    });
    pending.add(call);
    void call.finally(() => pending.delete(call));
  }, 1000 / perSecond);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.allSettled([...pending]);
      return { started, failed };
    },
  };
}
