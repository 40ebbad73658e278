import type { AuditEntry, AuditIndexStore, CheckpointStore, EventStore, RecordedEvent } from '@orchestron/event-store';
import { auditEntryOf, runFactsOf } from './audit-entry.ts';
import type { AuditRunFacts } from './audit-entry.ts';
import { describeError, silentLogger } from './ports.ts';
import type { Logger } from './ports.ts';
import { runIdOf, runStream } from './run-summary.ts';

export interface AuditIndexerOptions {
  readonly store: EventStore;
  readonly logger?: Logger;
  /** How often it looks for new events, in ms. Default 200. */
  readonly pollMs?: number;
  /** Events read and indexed in one put. Default 1,000. */
  readonly pageSize?: number;
  /** Its checkpoint in the store's CheckpointStore. Default `audit-index`. */
  readonly checkpointName?: string;
  /** The checkpoint is saved at most this often while it follows the log (and on close), in ms. Default 1,000. */
  readonly checkpointEveryMs?: number;
}

const MAX_CACHED_RUNS = 10_000;

/**
 * The audit index's projection: tails the global log page by page from its checkpoint and puts one entry per run
 * event (its tenant and definition from the run's RunStarted), then moves the checkpoint past the page, at most once
 * a second while it follows the log (one write where there was one per page). A crash before the checkpoint makes it
 * put those pages again, which changes nothing (entries are keyed by position). Several processes may run it on one
 * store: they write the same entries.
 */
export class AuditIndexer {
  readonly #store: EventStore;
  readonly #index: AuditIndexStore;
  readonly #checkpoints: CheckpointStore;
  readonly #logger: Logger;
  readonly #options: AuditIndexerOptions;
  readonly #runs = new Map<string, AuditRunFacts>();
  #position = 0;
  #lastEventId: string | null = null;
  #saved = { position: 0, at: Number.NEGATIVE_INFINITY };
  #loaded = false;
  #running: Promise<void> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  constructor(options: AuditIndexerOptions) {
    const { auditIndex, checkpoints } = options.store;
    if (auditIndex === undefined || checkpoints === undefined)
      throw new Error('the audit index needs an event store that keeps an audit index and checkpoints beside the log');
    this.#store = options.store;
    this.#index = auditIndex;
    this.#checkpoints = checkpoints;
    this.#logger = options.logger ?? silentLogger;
    this.#options = options;
  }

  /** The global position of the last event the index has taken in. */
  get position(): number {
    return this.#position;
  }

  /** Catches up with the log in the background (a long log must not hold up a start), then keeps polling it. */
  start(): void {
    this.#schedule(0);
  }

  async close(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running?.catch(() => undefined);
    await this.#saveCheckpoint(true).catch((error: unknown) =>
      this.#logger.warn('audit index could not save its checkpoint on close; it indexes those events again', {
        position: this.#position,
        error: describeError(error),
      }),
    );
  }

  /** Indexes every event not indexed yet; one run at a time (a second call joins the one under way). */
  catchUp(): Promise<void> {
    this.#running ??= this.#catchUp().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #catchUp(): Promise<void> {
    if (!this.#loaded) await this.#load();
    const pageSize = this.#options.pageSize ?? 1_000;
    for (;;) {
      if (this.#stopped) return;
      const page = await this.#store.readAll({ after: this.#position, maxCount: pageSize });
      const last = page.at(-1);
      if (last === undefined) return;
      await this.#index.put(await this.#entriesOf(page));
      this.#position = last.position;
      this.#lastEventId = last.id;
      await this.#saveCheckpoint(false);
      // A short page is the end of the log for now: no second read to find it empty.
      if (page.length < pageSize) return;
    }
  }

  /** Past what is put, at most once every `checkpointEveryMs` unless `now`. */
  async #saveCheckpoint(now: boolean): Promise<void> {
    const at = performance.now();
    if (!this.#loaded || this.#position === this.#saved.position) return;
    if (!now && at - this.#saved.at < (this.#options.checkpointEveryMs ?? 1_000)) return;
    const position = this.#position;
    await this.#checkpoints.save(this.#checkpointName(), {
      position,
      state: JSON.stringify({ lastEventId: this.#lastEventId }),
    });
    this.#saved = { position, at };
  }

  async #entriesOf(page: readonly RecordedEvent[]): Promise<AuditEntry[]> {
    const entries: AuditEntry[] = [];
    for (const event of page) {
      const runId = runIdOf(event);
      if (runId === undefined) continue;
      if (event.type === 'RunStarted' && event.revision === 0) this.#remember(runId, runFactsOf(event));
      const facts = await this.#factsOf(runId);
      const entry = facts === undefined ? undefined : auditEntryOf(event, runId, facts);
      if (entry !== undefined) entries.push(entry);
      else this.#logger.warn('an event the audit index cannot hold is left out of it', { position: event.position });
    }
    return entries;
  }

  async #factsOf(runId: string): Promise<AuditRunFacts | undefined> {
    const known = this.#runs.get(runId);
    if (known !== undefined) return known;
    const [first] = await this.#store.readStream(runStream(runId), { maxCount: 1 });
    if (first?.type !== 'RunStarted') return undefined;
    return this.#remember(runId, runFactsOf(first));
  }

  #remember(runId: string, facts: AuditRunFacts): AuditRunFacts {
    this.#runs.delete(runId);
    this.#runs.set(runId, facts);
    if (this.#runs.size > MAX_CACHED_RUNS) this.#runs.delete(this.#runs.keys().next().value as string);
    return facts;
  }

  /** Starts from the checkpoint when it is of this log; from 0 otherwise (the entries are put again, alike). */
  async #load(): Promise<void> {
    const stored = await this.#checkpoints.load(this.#checkpointName()).catch((error: unknown) => {
      this.#logger.warn('audit index checkpoint unreadable; indexing the log from the start', {
        error: describeError(error),
      });
      return undefined;
    });
    this.#loaded = true;
    if (stored === undefined || stored.position === 0) return;
    const { lastEventId } = JSON.parse(stored.state) as { lastEventId: string | null };
    const [event] = await this.#store.readAll({ after: stored.position - 1, maxCount: 1 });
    if (event?.position === stored.position && event.id === lastEventId) {
      this.#position = stored.position;
      this.#lastEventId = lastEventId;
      this.#saved = { position: stored.position, at: Number.NEGATIVE_INFINITY };
    } else
      this.#logger.warn('audit index checkpoint is not of this log (restored from a backup?); indexing it again', {
        position: stored.position,
      });
  }

  #checkpointName(): string {
    return this.#options.checkpointName ?? 'audit-index';
  }

  #schedule(delayMs = this.#options.pollMs ?? 200): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.catchUp()
        .catch((error: unknown) =>
          this.#logger.warn('audit index could not take in new events; it tries again', {
            position: this.#position,
            error: describeError(error),
          }),
        )
        .finally(() => this.#schedule());
    }, delayMs);
    this.#timer.unref?.();
  }
}

/** Starts the audit index on a store that can keep one; null (after saying so) on one that cannot. */
export function startAuditIndexer(options: AuditIndexerOptions): AuditIndexer | null {
  if (options.store.auditIndex === undefined || options.store.checkpoints === undefined) {
    options.logger?.info('audit search is off: this event store keeps no audit index');
    return null;
  }
  const indexer = new AuditIndexer(options);
  indexer.start();
  return indexer;
}
