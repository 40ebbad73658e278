/** What the server reads out of the notary's tables: the newest checkpoint, exports, inclusion proofs. */
import type { EventStore, ReadRowStore, RecordedEvent } from '@orchestron/event-store';
import type { SignedCheckpoint } from './checkpoint.ts';
import { auditedFields, eventLeaf } from './event-hash.ts';
import type { AuditedEvent } from './event-hash.ts';
import { headerLine } from './export-format.ts';
import type { ExportedEvent } from './export-format.ts';
import { inclusionProof } from './merkle.ts';
import { CHECKPOINT_TABLE, LEAF_TABLE, leafId, leafOf } from './tables.ts';
import type { Leaf } from './tables.ts';

const PAGE = 2_000;
const LEAF_PAGE = 10_000;

export interface InclusionProof {
  readonly event: AuditedEvent;
  /** The hash of the event before it in its stream (null for the first), so its hash can be made again. */
  readonly prev: string | null;
  readonly hash: string;
  readonly index: number;
  readonly treeSize: number;
  /** The audit path of RFC 9162, hex, from the leaf up. */
  readonly path: readonly string[];
  readonly checkpoint: SignedCheckpoint;
}

export class AuditReader {
  readonly #store: EventStore;
  readonly #rows: ReadRowStore;

  constructor(store: EventStore) {
    if (store.readRows === undefined) throw new Error('audit reads need an event store that keeps read rows');
    this.#store = store;
    this.#rows = store.readRows;
  }

  async latestCheckpoint(): Promise<SignedCheckpoint | undefined> {
    const [row] = await this.#rows.list(CHECKPOINT_TABLE, { limit: 1 });
    return row === undefined ? undefined : (JSON.parse(row.body) as SignedCheckpoint);
  }

  /** The whole log up to the checkpoint, as export lines, a page at a time (constant memory). */
  async *exportAll(checkpoint: SignedCheckpoint | undefined): AsyncGenerator<string> {
    yield headerLine(checkpoint ?? null, null);
    if (checkpoint === undefined) return;
    for (let after = 0; after < checkpoint.position;) {
      const page = (await this.#store.readAll({ after, maxCount: PAGE })).filter(
        (e) => e.position <= checkpoint.position,
      );
      if (page.length === 0) return;
      const leaves = await this.#leavesOf(page);
      for (const event of page) yield exportLine(event, leaves.get(event.position));
      after = (page.at(-1) as RecordedEvent).position;
    }
  }

  /** One stream's events, up to the last one hashed: each can be checked, and the chain, but not the root. */
  async *exportStream(streamId: string, label: string): AsyncGenerator<string> {
    // No checkpoint: its root is the whole log's, which one stream cannot make, and its size counts other tenants'.
    yield headerLine(null, label);
    for (let from = 0; ;) {
      const page = await this.#store.readStream(streamId, { fromRevision: from, maxCount: PAGE });
      if (page.length === 0) return;
      for (const event of page) {
        const row = await this.#rows.get(LEAF_TABLE, leafId(event.streamId, event.revision));
        // The newest events may not be hashed yet: the export stops before them.
        if (row === undefined) return;
        yield exportLine(event, leafOf(row));
      }
      from = (page.at(-1) as RecordedEvent).revision + 1;
    }
  }

  /** Where in the log an event is, by its id; undefined when the log does not hold it. Reads the log forwards. */
  async find(eventId: string): Promise<RecordedEvent | undefined> {
    for (let after = 0; ;) {
      const page = await this.#store.readAll({ after, maxCount: PAGE });
      if (page.length === 0) return undefined;
      const found = page.find((e) => e.id === eventId);
      if (found !== undefined) return found;
      after = (page.at(-1) as RecordedEvent).position;
    }
  }

  /** The proof that the event is in the checkpoint's tree; undefined when the checkpoint does not cover it yet. */
  async prove(event: RecordedEvent, checkpoint: SignedCheckpoint): Promise<InclusionProof | undefined> {
    if (event.position > checkpoint.position) return undefined;
    const own = await this.#rows.get(LEAF_TABLE, leafId(event.streamId, event.revision));
    if (own === undefined) return undefined;
    const before =
      event.revision === 0 ? undefined : await this.#rows.get(LEAF_TABLE, leafId(event.streamId, event.revision - 1));
    const leaf = leafOf(own);
    const hashes = (await this.#leavesUpTo(checkpoint)).map((l) => eventLeaf(l.hash));
    return {
      event: auditedFields(event),
      prev: before === undefined ? null : leafOf(before).hash,
      hash: leaf.hash,
      index: leaf.index,
      treeSize: checkpoint.treeSize,
      path: inclusionProof(leaf.index, hashes).map((h) => h.toString('hex')),
      checkpoint,
    };
  }

  async #leavesOf(page: readonly RecordedEvent[]): Promise<Map<number, Leaf>> {
    const last = (page.at(-1) as RecordedEvent).position;
    const rows = await this.#rows.list(LEAF_TABLE, { beforePosition: last + 1, limit: page.length });
    return new Map(rows.map((row) => [row.position, leafOf(row)]));
  }

  /** Every leaf of the checkpoint's tree, in tree order. */
  async #leavesUpTo(checkpoint: SignedCheckpoint): Promise<Leaf[]> {
    const leaves: Leaf[] = [];
    for (let before = checkpoint.position + 1; ;) {
      const rows = await this.#rows.list(LEAF_TABLE, { beforePosition: before, limit: LEAF_PAGE });
      for (const row of rows) leaves.push(leafOf(row));
      if (rows.length < LEAF_PAGE) break;
      before = (rows.at(-1) as { position: number }).position;
    }
    return leaves.sort((a, b) => a.index - b.index).slice(0, checkpoint.treeSize);
  }
}

/** An event with the hash the notary recorded for it; an event it has not hashed carries none, and fails a check. */
function exportLine(event: RecordedEvent, leaf: Leaf | undefined): string {
  const line: ExportedEvent = { ...auditedFields(event), index: leaf?.index ?? -1, hash: leaf?.hash ?? '' };
  return JSON.stringify(line);
}
