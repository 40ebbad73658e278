import type { OutgoingRecord } from './codec.ts';

export interface ProduceQueueOptions {
  /** One produce request: every record given, or an error for all of them. */
  readonly send: (records: OutgoingRecord[]) => Promise<void>;
  /** Whether an error says the broker is out of reach (then splitting the batch would only wait longer). */
  readonly isUnavailable: (error: unknown) => boolean;
  /** A batch stops growing past this many bytes of keys and values (the broker's limit is 1 MiB per batch). */
  readonly maxBatchBytes?: number;
}

interface Pending {
  readonly records: OutgoingRecord[];
  readonly bytes: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

const DEFAULT_MAX_BATCH_BYTES = 512 * 1024;

/**
 * Coalesces publishes into produce requests. The idempotent producer keeps one request in flight per broker
 * (the client forces it), so a request per publish queues every publish of the process behind the one before:
 * instead, whatever is published while a request is out goes in the next one, and the publishes of one tick go
 * together. Order is kept: records leave in the order they were published. A batch that the broker refuses
 * for a reason other than being out of reach is sent again publish by publish, so one bad record fails only
 * its own publish.
 */
export class ProduceQueue {
  private readonly options: ProduceQueueOptions;
  private readonly maxBatchBytes: number;
  private queue: Pending[] = [];
  private running: Promise<void> | undefined;
  /** Produce requests sent, and publishes they carried: what the coalescing saves. */
  requests = 0;
  publishes = 0;

  constructor(options: ProduceQueueOptions) {
    this.options = options;
    this.maxBatchBytes = options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
  }

  publish(records: OutgoingRecord[]): Promise<void> {
    const bytes = records.reduce((sum, record) => sum + record.key.length + record.value.length, 0);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ records, bytes, resolve, reject });
      this.running ??= this.run();
    });
  }

  /** Resolves once every publish queued so far has been answered. */
  async drain(): Promise<void> {
    while (this.running !== undefined) await this.running;
  }

  private async run(): Promise<void> {
    // Lets the publishes of the current tick join the first request.
    await new Promise((resolve) => setImmediate(resolve));
    for (;;) {
      const batch = this.take();
      if (batch.length === 0) {
        // Cleared in the same synchronous step that saw the queue empty, so no publish is left behind.
        this.running = undefined;
        return;
      }
      await this.sendBatch(batch);
    }
  }

  private take(): Pending[] {
    let bytes = 0;
    let count = 0;
    while (count < this.queue.length && (count === 0 || bytes < this.maxBatchBytes)) {
      bytes += this.queue[count]?.bytes ?? 0;
      count += 1;
    }
    if (count > 1 && bytes > this.maxBatchBytes) count -= 1;
    const batch = this.queue.slice(0, count);
    this.queue = this.queue.slice(count);
    return batch;
  }

  private async sendBatch(batch: readonly Pending[]): Promise<void> {
    try {
      this.requests += 1;
      this.publishes += batch.length;
      await this.options.send(batch.flatMap((pending) => pending.records));
    } catch (error) {
      if (batch.length === 1 || this.options.isUnavailable(error)) {
        for (const pending of batch) pending.reject(error);
        return;
      }
      for (const pending of batch) await this.sendBatch([pending]);
      return;
    }
    for (const pending of batch) pending.resolve();
  }
}
