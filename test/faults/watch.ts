// What the fault suite watches while it runs, from the stack's event store (read straight from PostgreSQL over a
// connection of its own, which the suite's connection cuts leave alone): when each run ended and how, and which
// approval gates opened.
import pg from 'pg';
import { partitionForKey } from '@orchestron/bus-kafka';
import type { Completion } from '../../bench/failover/timeline.ts';
import { pollEvery } from '../../bench/failover/poll-loop.ts';
import type { PollLoop } from '../../bench/failover/poll-loop.ts';

/** The events that end a run. RunNeedsOperator does not: an operator may still move such a run on. */
const ENDINGS = new Set(['RunCompleted', 'RunFailed', 'RunCompensated', 'RunCancelled']);

export interface Gate {
  readonly runId: string;
  readonly stepId: string;
}

export class RunWatch {
  /** Every run ending seen, in the order written, with its partition (for the recovery figures). */
  readonly endings: Completion[] = [];
  /** Run id → the event that ended it. */
  readonly ended = new Map<string, string>();
  private readonly client: pg.Client;
  private readonly schema: string;
  private readonly partitions: number;
  private readonly onGate: (gate: Gate) => void;
  private position = 0;
  private loop: PollLoop | undefined;

  constructor(options: { pgUrl: string; schema: string; partitions: number; onGate: (gate: Gate) => void }) {
    this.client = new pg.Client({ connectionString: options.pgUrl, application_name: 'orchestron-fault-watch' });
    this.schema = options.schema;
    this.partitions = options.partitions;
    this.onGate = options.onGate;
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
    for (;;) {
      const { rows } = await this.client.query<{
        position: string;
        stream_id: string;
        type: string;
        step_id: string | null;
        at: number;
      }>(
        `SELECT position, stream_id, type, extract(epoch from recorded_at) * 1000 AS at,
                CASE WHEN type = 'ApprovalRequested' THEN data->>'stepId' END AS step_id
           FROM "${this.schema}".events
          WHERE position > $1 AND stream_id LIKE 'run-%'
            AND type IN ('RunCompleted', 'RunFailed', 'RunCompensated', 'RunCancelled', 'ApprovalRequested')
          ORDER BY position LIMIT 5000`,
        [this.position],
      );
      for (const row of rows) {
        this.position = Math.max(this.position, Number(row.position));
        const runId = row.stream_id.slice('run-'.length);
        if (row.type === 'ApprovalRequested' && row.step_id !== null) this.onGate({ runId, stepId: row.step_id });
        else if (ENDINGS.has(row.type) && !this.ended.has(runId)) {
          this.ended.set(runId, row.type);
          this.endings.push({ at: Number(row.at), partition: partitionForKey(runId, this.partitions) });
        }
      }
      if (rows.length < 5000) return;
    }
  }
}
