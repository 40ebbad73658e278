/**
 * Checks an export of the log (export-format.ts) without trusting whoever made it: each event's hash is computed
 * again from its content and the hash before it in its stream, the events must follow each other in the log and
 * in their streams, and all of them must make the root of a checkpoint signed with a key the caller trusts.
 * It reads line by line: memory grows with the number of streams, not of events.
 */
import type { KeyObject } from 'node:crypto';
import { checkpointSignatureProblem } from './checkpoint.ts';
import type { SignedCheckpoint } from './checkpoint.ts';
import { eventHash, eventLeaf } from './event-hash.ts';
import { parseExportLine } from './export-format.ts';
import type { ExportHeader, ExportedEvent } from './export-format.ts';
import { MerkleFrontier } from './merkle.ts';

export interface VerifyOptions {
  /** The checkpoint to hold the export to; by default the one in its header. */
  readonly checkpoint?: SignedCheckpoint;
  /** The key the checkpoint must be signed with; without one the signature is not checked (and a note says so). */
  readonly publicKey?: KeyObject;
}

export interface VerifyProblem {
  /** The global position of the first event found bad, when there is one to name. */
  readonly position: number | null;
  /** 1-based line of the export. */
  readonly line: number;
  readonly message: string;
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly events: number;
  readonly streams: number;
  readonly checkpoint: SignedCheckpoint | null;
  readonly problem: VerifyProblem | null;
  /** What the check did not cover, said plainly. */
  readonly notes: readonly string[];
}

interface Verifying {
  header: ExportHeader | null;
  events: number;
  lastPosition: number;
  readonly streams: Map<string, { revision: number; hash: string }>;
  readonly frontier: MerkleFrontier;
}

export async function verifyExport(lines: AsyncIterable<string>, options: VerifyOptions = {}): Promise<VerifyReport> {
  const v: Verifying = { header: null, events: 0, lastPosition: 0, streams: new Map(), frontier: new MerkleFrontier() };
  let line = 0;
  for await (const text of lines) {
    line++;
    if (text.trim() === '') continue;
    const problem = verifyLine(v, text, line);
    if (problem !== null) return report(v, options, problem);
  }
  return report(v, options, endProblem(v, options, line));
}

function verifyLine(v: Verifying, text: string, line: number): VerifyProblem | null {
  const parsed = parseExportLine(text, v.header === null);
  const at = (message: string, position: number | null = null): VerifyProblem => ({ position, line, message });
  if ('problem' in parsed) return at(`${parsed.problem} (after position ${v.lastPosition})`);
  if ('format' in parsed) {
    v.header = parsed;
    return null;
  }
  const problem = eventProblem(v, parsed);
  return problem === null ? null : at(problem, parsed.position);
}

function eventProblem(v: Verifying, e: ExportedEvent): string | null {
  const whole = v.header?.filter === null;
  if (whole && e.index !== v.events)
    return `position ${e.position} is event ${e.index} of the log, but ${v.events} came before it in the export: events were removed, inserted or reordered`;
  if (e.position <= v.lastPosition)
    return `position ${e.position} comes after position ${v.lastPosition}: the events are out of order`;
  const before = v.streams.get(e.streamId);
  const expected = before === undefined ? 0 : before.revision + 1;
  if (e.revision !== expected)
    return `revision ${e.revision} of stream ${e.streamId} at position ${e.position} follows ${before === undefined ? 'nothing' : `revision ${before.revision}`}: an event of the stream is missing or out of order`;
  const hash = eventHash(e, before?.hash ?? null);
  if (hash !== e.hash)
    return `the event at position ${e.position} (revision ${e.revision} of ${e.streamId}) does not match its recorded hash: it was altered`;
  v.streams.set(e.streamId, { revision: e.revision, hash });
  v.frontier.push(eventLeaf(hash));
  v.events++;
  v.lastPosition = e.position;
  return null;
}

function endProblem(v: Verifying, options: VerifyOptions, line: number): VerifyProblem | null {
  const at = (message: string): VerifyProblem => ({ position: null, line, message });
  if (v.header === null) return at('the export is empty: it has no header line');
  const checkpoint = options.checkpoint ?? v.header.checkpoint;
  if (checkpoint === null || v.header.filter !== null) return null;
  if (v.events !== checkpoint.treeSize)
    return at(
      `the export holds ${v.events} events but the checkpoint covers ${checkpoint.treeSize}: events were ${v.events < checkpoint.treeSize ? 'removed' : 'added'}`,
    );
  const root = v.frontier.root().toString('hex');
  if (root !== checkpoint.rootHash)
    return at(
      `the ${v.events} events make root ${root}, not the checkpoint's ${checkpoint.rootHash}: an event was altered and its hash made again, or the checkpoint is another log's`,
    );
  if (options.publicKey !== undefined) {
    const bad = checkpointSignatureProblem(checkpoint, options.publicKey);
    if (bad !== null) return at(bad);
  }
  return null;
}

function report(v: Verifying, options: VerifyOptions, problem: VerifyProblem | null): VerifyReport {
  const checkpoint = options.checkpoint ?? v.header?.checkpoint ?? null;
  const notes: string[] = [];
  if (v.header?.filter)
    notes.push(`a filtered export (${v.header.filter}): each event and stream chain was checked, not the root`);
  if (checkpoint === null)
    notes.push('no checkpoint: the events were checked one by one and in their streams, not against a signed root');
  else if (options.publicKey === undefined)
    notes.push('the signature was not checked: give the public key you trust (--public-key key.pem)');
  if (checkpoint !== null && checkpoint.since.position > 0)
    notes.push(
      `events up to position ${checkpoint.since.position} were recorded before hashing began at ${checkpoint.since.time}: a change made to them before then cannot be caught`,
    );
  return { ok: problem === null, events: v.events, streams: v.streams.size, checkpoint, problem, notes };
}
