import type { ReadRowStore, RecordedEvent } from '@orchestron/event-store';
import { isTerminalRun } from '@orchestron/workflow-core';
import type { RunStatus } from '@orchestron/workflow-core';
import { describeError, silentLogger } from './ports.ts';
import type { Logger } from './ports.ts';
import { RunArchive } from './run-archive.ts';
import { RunCounts } from './run-counts.ts';
import type { RunCount } from './run-counts.ts';
import { nextRun, runIdOf, startedRun, summaryOf } from './run-summary.ts';
import type { IndexedRun, RunSummary } from './run-summary.ts';

export { RUN_STREAM_PREFIX, runStream } from './run-summary.ts';
export type { IndexedRun, RunSummary } from './run-summary.ts';

export interface RunFilter {
  /** Only this tenant's runs; absent: every tenant's (an admin's view). */
  readonly tenant?: string;
  readonly status?: RunStatus;
  readonly definitionId?: string;
  readonly limit?: number;
  /** Only runs whose newest event is before this global position: the next page after a run at this position. */
  readonly before?: number;
  /** Only these runs (e.g. the ids an idempotency key names, one per definition). */
  readonly ids?: readonly string[];
}

/** The index at one position (what a checkpoint holds): the runs in memory, and the counts of all runs. */
export interface RunIndexCapture {
  readonly position: number;
  /** In the order the index met them. */
  readonly runs: readonly IndexedRun[];
  readonly counts: readonly RunCount[];
}

export interface RunIndexOptions {
  /**
   * The store's read rows: ended runs move there, so memory holds only the runs still moving plus the last
   * second's ended ones. Absent: every run stays in memory.
   */
  readonly archive?: ReadRowStore;
  /** Ended runs archived in one put, and how many waiting start a put at once. Default 1,000. */
  readonly archiveBatch?: number;
  /** How long an ended run waits in memory at most before it is archived, in ms. Default 1,000. */
  readonly archiveAfterMs?: number;
  /** Told when an archived run changed (an event came for it, and its row was read back to fold it in). */
  readonly onLateChange?: (runId: string) => void;
  readonly logger?: Logger;
}

const RETRY_MS = 1_000;

/**
 * The run-list read model, a projection of the global log. Rebuilding it from position 0 gives the same result as
 * keeping it live (guarantee 9), and as restoring a checkpoint and catching up from it; tests check both. With an
 * archive, `get` and `active` answer from memory (a run still moving is always there), and `find` and `list` also
 * read the archive.
 */
export class RunIndex {
  private readonly runs = new Map<string, IndexedRun>();
  private readonly counts = new RunCounts();
  private readonly archive: RunArchive | undefined;
  private readonly options: RunIndexOptions;
  private readonly logger: Logger;
  /** Ended runs whose entry in memory is not in the archive yet. */
  private readonly unarchived = new Set<string>();
  /** Events of archived runs, waiting for the run's row to be read back. */
  private readonly fixups = new Map<string, { events: RecordedEvent[]; done: Promise<void> }>();
  private archiving: Promise<void> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastPosition = 0;

  constructor(options: RunIndexOptions = {}) {
    this.options = options;
    this.archive = options.archive === undefined ? undefined : new RunArchive(options.archive);
    this.logger = options.logger ?? silentLogger;
  }

  get position(): number {
    return this.lastPosition;
  }

  /** Runs held in memory now (all of them, without an archive). */
  get inMemory(): number {
    return this.runs.size;
  }

  /**
   * The index as it stands, in O(runs in memory) references and no copying of entries: `apply` never changes an
   * entry in place, it replaces it, so what a capture holds stays as it was while the index moves on.
   */
  capture(): RunIndexCapture {
    return { position: this.lastPosition, runs: [...this.runs.values()], counts: this.counts.entries() };
  }

  /** Replaces everything the index holds with a capture (a checkpoint restored at start). */
  restore(capture: RunIndexCapture): void {
    this.runs.clear();
    this.unarchived.clear();
    for (const run of capture.runs) {
      this.runs.set(run.id, run);
      if (isTerminalRun(run.status)) this.unarchived.add(run.id);
    }
    this.counts.restore(capture.counts);
    this.lastPosition = capture.position;
    if (this.unarchived.size > 0) this.scheduleArchive();
  }

  apply(recorded: RecordedEvent): void {
    if (recorded.position <= this.lastPosition) return;
    this.lastPosition = recorded.position;
    const runId = runIdOf(recorded);
    if (runId === undefined) return;
    const waiting = this.fixups.get(runId);
    if (waiting !== undefined) {
      waiting.events.push(recorded);
      return;
    }
    const current = this.runs.get(runId);
    const started = startedRun(runId, recorded);
    // A start at revision 0 makes a new run. Anything else for a run not in memory may be for an archived run.
    const fresh = current !== undefined || this.archive === undefined || recorded.revision === 0;
    if (started !== undefined && fresh) this.set(current, started);
    else if (current !== undefined) this.set(current, nextRun(current, recorded));
    else if (this.archive !== undefined) this.fixup(this.archive, runId, recorded);
  }

  /** From memory: every run still moving is there, an ended one only until it is archived. */
  get(runId: string): RunSummary | undefined {
    const run = this.runs.get(runId);
    return run ? summaryOf(run) : undefined;
  }

  /** From memory, then from the archive. */
  async find(runId: string): Promise<RunSummary | undefined> {
    const run = this.runs.get(runId) ?? (await this.archive?.get(runId));
    return run ? summaryOf(run) : undefined;
  }

  /** Newest first: the runs in memory that match, and the archived ones that match and are not in memory. */
  async list(filter: RunFilter = {}): Promise<RunSummary[]> {
    const limit = filter.limit ?? Number.POSITIVE_INFINITY;
    if (filter.ids !== undefined) return this.listIds(filter.ids, filter, limit);
    const inMemory = [...this.runs.values()];
    const held = new Set(inMemory.map((run) => run.id));
    const matching = inMemory.filter((run) => matches(run, filter));
    const archived =
      this.archive === undefined || limit <= 0 ? [] : await this.archive.list(filter, limit, (id) => held.has(id));
    const out = [...matching, ...archived].sort((a, b) => b.position - a.position);
    return out.slice(0, limit).map(summaryOf);
  }

  private async listIds(ids: readonly string[], filter: RunFilter, limit: number): Promise<RunSummary[]> {
    const found: IndexedRun[] = [];
    for (const id of new Set(ids)) {
      const run = this.runs.get(id) ?? (await this.archive?.get(id));
      if (run !== undefined && matches(run, filter)) found.push(run);
    }
    return found
      .sort((a, b) => b.position - a.position)
      .slice(0, limit)
      .map(summaryOf);
  }

  /** Every run not ended, newest first: all in memory. */
  active(): RunSummary[] {
    return [...this.runs.values()]
      .filter((run) => !isTerminalRun(run.status))
      .sort((a, b) => b.position - a.position)
      .map(summaryOf);
  }

  /** How many runs each tenant has in each status, archived ones included. */
  countByStatus(): RunCount[] {
    return this.counts.entries();
  }

  /** Every run, by id: for tests comparing two indexes. */
  async snapshot(): Promise<RunSummary[]> {
    return (await this.list()).sort((a, b) => a.id.localeCompare(b.id));
  }

  /**
   * Archives the ended runs waiting in memory and folds in the events waiting for archived runs, so a capture
   * taken right after holds the fewest runs and no event it has not applied.
   */
  async settle(): Promise<void> {
    while (this.unarchived.size > 0 && this.archive !== undefined) if (!(await this.archiveNow())) break;
    await this.caughtUp();
  }

  /** Events of archived runs still waiting for the run's row: a capture is only whole when this is 0. */
  get pendingFixups(): number {
    return this.fixups.size;
  }

  /** Once every event applied so far is folded in: events of archived runs wait for the run's row. */
  async caughtUp(): Promise<void> {
    while (this.fixups.size > 0) await Promise.all([...this.fixups.values()].map((fixup) => fixup.done));
  }

  /** Stops the archive timer and archives what waits (a failure is logged: those runs stay in the checkpoint). */
  async close(): Promise<void> {
    await this.settle();
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private set(before: IndexedRun | undefined, run: IndexedRun): void {
    this.runs.set(run.id, run);
    this.counts.move(before, run);
    if (this.archive !== undefined && isTerminalRun(run.status)) {
      this.unarchived.add(run.id);
      this.scheduleArchive();
    }
  }

  private scheduleArchive(): void {
    if (this.unarchived.size >= (this.options.archiveBatch ?? 1_000)) void this.archiveNow();
    else this.later(this.options.archiveAfterMs ?? 1_000);
  }

  private later(ms: number): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.archiveNow();
    }, ms);
    this.timer.unref?.();
  }

  /** One put of the runs waiting (joins the one under way); whether it went through. */
  private async archiveNow(): Promise<boolean> {
    const archive = this.archive;
    if (archive === undefined) return true;
    if (this.archiving !== undefined) await this.archiving;
    const batch = [...this.unarchived].slice(0, this.options.archiveBatch ?? 1_000);
    if (batch.length === 0) return true;
    let ok = true;
    this.archiving = this.archiveBatch(archive, batch)
      .catch((error: unknown) => {
        ok = false;
        for (const id of batch) this.unarchived.add(id);
        this.logger.warn('could not archive ended runs; they stay in memory and are tried again', {
          runs: batch.length,
          error: describeError(error),
        });
        this.later(RETRY_MS);
      })
      .finally(() => {
        this.archiving = undefined;
      });
    await this.archiving;
    if (ok && this.unarchived.size > 0) this.scheduleArchive();
    return ok;
  }

  private async archiveBatch(archive: RunArchive, ids: readonly string[]): Promise<void> {
    const runs = ids.map((id) => this.runs.get(id)).filter((run) => run !== undefined && isTerminalRun(run.status));
    for (const id of ids) this.unarchived.delete(id);
    await archive.put(runs as IndexedRun[]);
    // Only entries that did not move while the put was out: a run that changed is archived again, later.
    for (const run of runs) if (run !== undefined && this.runs.get(run.id) === run) this.runs.delete(run.id);
  }

  /** An event for a run no longer in memory: read its row back, fold the event in, and keep it in memory again. */
  private fixup(archive: RunArchive, runId: string, recorded: RecordedEvent): void {
    const events = [recorded];
    const done = this.readBack(archive, runId).then((archived) => {
      this.fixups.delete(runId);
      // A row at or past the event was put by a process further along the log: this index never held that run,
      // so the events are folded from nothing, as a replay would. Folded as `apply` folds them; as without an
      // archive, an event of a run not started changes nothing.
      const before = archived !== undefined && archived.position < recorded.position ? archived : undefined;
      const run = events.reduce<IndexedRun | undefined>(
        (folded, event) => startedRun(runId, event) ?? (folded === undefined ? undefined : nextRun(folded, event)),
        before,
      );
      if (run === undefined) return;
      this.set(before, run);
      this.options.onLateChange?.(runId);
    });
    this.fixups.set(runId, { events, done });
  }

  /** The archived run; an unreadable archive is tried again until it answers, so no event is dropped. */
  private async readBack(archive: RunArchive, runId: string): Promise<IndexedRun | undefined> {
    for (;;) {
      try {
        return await archive.get(runId);
      } catch (error) {
        this.logger.warn('could not read an archived run back; trying again', { runId, error: describeError(error) });
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  }
}

function matches(run: IndexedRun, filter: RunFilter): boolean {
  if (filter.tenant !== undefined && run.tenant !== filter.tenant) return false;
  if (filter.status && run.status !== filter.status) return false;
  if (filter.before !== undefined && run.position >= filter.before) return false;
  return !(filter.definitionId && run.definitionId !== filter.definitionId);
}
