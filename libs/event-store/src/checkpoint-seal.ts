import { createHash } from 'node:crypto';
import type { Checkpoint } from './checkpoints.port.ts';
import { CheckpointCorruptError } from './errors.ts';

/** A checkpoint as an adapter stores it: with the digest that `openCheckpoint` checks on the way back. */
export interface SealedCheckpoint {
  readonly name: string;
  readonly position: number;
  readonly state: string;
  /** sha256 (hex) over the name, the position and the state. */
  readonly digest: string;
}

const MAX_NAME_LENGTH = 200;

/** Rejects, as the other argument checks do, a name no adapter can store as given. */
export function assertCheckpointName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME_LENGTH)
    throw new TypeError(`checkpoint name must be a string of 1 to ${MAX_NAME_LENGTH} characters`);
  if (!isStorableText(name)) throw new TypeError('checkpoint name must be well-formed Unicode without U+0000');
}

/** Checks a save's arguments and seals them: every adapter stores exactly what the port accepted. */
export function sealCheckpoint(name: unknown, checkpoint: unknown): SealedCheckpoint {
  assertCheckpointName(name);
  if (typeof checkpoint !== 'object' || checkpoint === null) throw new TypeError('checkpoint must be an object');
  const { position, state } = checkpoint as Partial<Checkpoint>;
  if (typeof position !== 'number' || !Number.isSafeInteger(position) || position < 0)
    throw new TypeError('checkpoint.position must be a non-negative integer');
  if (typeof state !== 'string') throw new TypeError('checkpoint.state must be a string');
  if (!isStorableText(state)) throw new TypeError('checkpoint.state must be well-formed Unicode without U+0000');
  return { name, position, state, digest: digestOf(name, position, state) };
}

/** What a load hands back, once the stored row is shown to be what was saved under `name`. */
export function openCheckpoint(name: string, stored: SealedCheckpoint): Checkpoint {
  const { position, state, digest } = stored;
  if (typeof position !== 'number' || !Number.isSafeInteger(position) || position < 0)
    throw new CheckpointCorruptError(name, `its position ${String(position)} is not a non-negative integer`);
  if (typeof state !== 'string' || typeof digest !== 'string')
    throw new CheckpointCorruptError(name, 'its state or digest is missing');
  if (digestOf(name, position, state) !== digest)
    throw new CheckpointCorruptError(name, 'its content does not match the digest it was saved with');
  return { position, state };
}

function digestOf(name: string, position: number, state: string): string {
  return createHash('sha256')
    .update(name)
    .update('\n')
    .update(String(position))
    .update('\n')
    .update(state)
    .digest('hex');
}

// Text no adapter changes on the way in: PostgreSQL refuses U+0000, and pg would store a lone surrogate as U+FFFD.
const UNPAIRED_SURROGATE = /\p{Cs}/u;

export function isStorableText(text: string): boolean {
  return !text.includes('\u0000') && !UNPAIRED_SURROGATE.test(text);
}
