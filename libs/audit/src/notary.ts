/**
 * The notary: a projection of the global log that records each event's hash (chained in its stream) in a table
 * beside the log, grows the Merkle tree of the log, and signs a checkpoint of it when it has grown. It only reads
 * the log, so the write path pays nothing; a change made to an event after it was hashed no longer matches.
 */
import type { KeyObject } from 'node:crypto';
import type { EventStore, ReadRow, ReadRowStore, RecordedEvent } from '@orchestron/event-store';
import { signCheckpoint } from './checkpoint.ts';
import type { SignedCheckpoint } from './checkpoint.ts';
import { eventHash, eventLeaf } from './event-hash.ts';
import { MerkleFrontier } from './merkle.ts';
import { CHECKPOINT_TABLE, checkpointRow, LEAF_TABLE, leafId, leafOf, leafRow, NOTARY_CHECKPOINT } from './tables.ts';

export interface NotaryOptions {
  readonly store: EventStore;
  readonly signingKey: KeyObject;
  /** How often it looks for new events; default 200 ms. */
  readonly pollMs?: number;
  /** At most one signed checkpoint per this long; default 1 s. */
  readonly signEveryMs?: number;
  readonly onError?: (error: unknown) => void;
  readonly now?: () => Date;
}

interface NotaryState {
  position: number;
  frontier: MerkleFrontier;
  since: { position: number; time: string };
}

const PAGE = 2_000;
const RECENT_STREAMS = 10_000;

export class AuditNotary {
  readonly #options: NotaryOptions;
  readonly #rows: ReadRowStore;
  #state: NotaryState | undefined;
  #latest: SignedCheckpoint | undefined;
  #signedAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;
  /** The last hash of recently written streams, so the chain rarely needs a read. */
  readonly #recent = new Map<string, { revision: number; hash: string }>();

  constructor(options: NotaryOptions) {
    if (options.store.readRows === undefined || options.store.checkpoints === undefined)
      throw new Error('the audit notary needs an event store that keeps read rows and checkpoints beside the log');
    this.#options = options;
    this.#rows = options.store.readRows;
  }

  /** Hashes what the log holds in the background, then follows it. */
  start(): void {
    this.catchUp()
      .catch((error: unknown) => this.#options.onError?.(error))
      .finally(() => this.#schedule());
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  /** The newest signed checkpoint. */
  get latest(): SignedCheckpoint | undefined {
    return this.#latest;
  }

  /** Hashes every event not hashed yet and signs a checkpoint when the tree grew; one run at a time. */
  catchUp(): Promise<void> {
    this.#running ??= this.#catchUp().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #catchUp(): Promise<void> {
    const state = (this.#state ??= await this.#load());
    for (let page = await this.#page(state); page.length > 0; page = await this.#page(state)) {
      // The page counts only once its rows are in: a failed put leaves the tree as it was, to grow again from there.
      const frontier = MerkleFrontier.from(state.frontier.size, state.frontier.hashes);
      const rows: ReadRow[] = [];
      for (const event of page) rows.push(await this.#hash(frontier, event));
      await this.#rows.put(LEAF_TABLE, rows);
      state.frontier = frontier;
      state.position = (page.at(-1) as RecordedEvent).position;
      await this.#signIfDue(state);
    }
    await this.#signIfDue(state);
  }

  #page(state: NotaryState): Promise<RecordedEvent[]> {
    return this.#stopped ? Promise.resolve([]) : this.#options.store.readAll({ after: state.position, maxCount: PAGE });
  }

  async #hash(frontier: MerkleFrontier, event: RecordedEvent): Promise<ReadRow> {
    const prev = event.revision === 0 ? null : await this.#previousHash(event);
    const hash = eventHash(event, prev);
    const index = frontier.size;
    frontier.push(eventLeaf(hash));
    this.#recent.delete(event.streamId);
    this.#recent.set(event.streamId, { revision: event.revision, hash });
    if (this.#recent.size > RECENT_STREAMS) this.#recent.delete(this.#recent.keys().next().value as string);
    return leafRow(event, index, hash);
  }

  async #previousHash(event: RecordedEvent): Promise<string> {
    const recent = this.#recent.get(event.streamId);
    if (recent?.revision === event.revision - 1) return recent.hash;
    const row = await this.#rows.get(LEAF_TABLE, leafId(event.streamId, event.revision - 1));
    if (row === undefined)
      throw new Error(
        `revision ${event.revision - 1} of stream ${event.streamId} has no hash though the notary went past it`,
      );
    return leafOf(row).hash;
  }

  /** Signs when the tree grew, at most once per `signEveryMs` (the first checkpoint at once). */
  async #signIfDue(state: NotaryState): Promise<void> {
    const now = this.#now();
    const first = this.#latest === undefined;
    const grown = first || (this.#latest as SignedCheckpoint).treeSize < state.frontier.size;
    if (!grown || (!first && now.getTime() - this.#signedAt < (this.#options.signEveryMs ?? 1_000))) return;
    const checkpoint = signCheckpoint(
      {
        treeSize: state.frontier.size,
        rootHash: state.frontier.root().toString('hex'),
        position: state.position,
        time: now.toISOString(),
        since: state.since,
      },
      this.#options.signingKey,
    );
    await this.#rows.put(CHECKPOINT_TABLE, [checkpointRow(checkpoint)]);
    await this.#options.store.checkpoints?.save(NOTARY_CHECKPOINT, {
      position: state.position,
      state: JSON.stringify({ size: state.frontier.size, frontier: state.frontier.hashes, since: state.since }),
    });
    this.#latest = checkpoint;
    this.#signedAt = now.getTime();
  }

  async #load(): Promise<NotaryState> {
    const saved = await this.#options.store.checkpoints?.load(NOTARY_CHECKPOINT);
    const [newest] = await this.#rows.list(CHECKPOINT_TABLE, { limit: 1 });
    if (newest !== undefined) this.#latest = JSON.parse(newest.body) as SignedCheckpoint;
    if (saved === undefined) {
      // Hashing begins now: what the log holds already was recorded before there was a hash to hold it to.
      const last = await this.#lastEvent();
      const since = { position: last?.position ?? 0, time: this.#now().toISOString() };
      return { position: 0, frontier: new MerkleFrontier(), since };
    }
    const body = JSON.parse(saved.state) as { size: number; frontier: string[]; since: NotaryState['since'] };
    return { position: saved.position, frontier: MerkleFrontier.from(body.size, body.frontier), since: body.since };
  }

  /** The log's last event, found page by page (the port reads forwards only). */
  async #lastEvent(): Promise<RecordedEvent | undefined> {
    let last: RecordedEvent | undefined;
    for (let page = await this.#options.store.readAll({ after: 0, maxCount: 5_000 }); page.length > 0;) {
      last = page.at(-1);
      page = await this.#options.store.readAll({ after: (last as RecordedEvent).position, maxCount: 5_000 });
    }
    return last;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.catchUp()
        .catch((error: unknown) => this.#options.onError?.(error))
        .finally(() => this.#schedule());
    }, this.#options.pollMs ?? 200);
    this.#timer.unref?.();
  }

  #now(): Date {
    return this.#options.now?.() ?? new Date();
  }
}
