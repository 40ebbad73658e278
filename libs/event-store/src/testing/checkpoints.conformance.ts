import { describe, expect, it } from '@jest/globals';
import type { CheckpointStore } from '../checkpoints.port.ts';
import { CheckpointCorruptError, EventStoreClosedError } from '../errors.ts';
import { anEvent, range } from './conformance-kit.ts';
import type { GetStore, Ordinal } from './conformance-kit.ts';

/** How the suite reaches behind an adapter to damage what it stored under a checkpoint name. */
export interface CheckpointTampering {
  /** Changes the stored state of `name` (on the store the factory made last) without going through the port. */
  corrupt(name: string): Promise<void>;
}

async function rejection(pending: Promise<unknown>): Promise<unknown> {
  return pending.then(
    () => undefined,
    (reason: unknown) => reason,
  );
}

const ALPHABET = [...'abcdefghijklmnopqrstuvwxyz0123456789 "\\\n\té€𝄞✓{}[]'];

/** Deterministic, well-formed text with one- to four-byte UTF-8 characters and JSON escapes: about `length` units. */
function mixedText(length: number): string {
  const parts: string[] = [];
  for (let index = 0, size = 0; size < Math.min(length, 65_536); index += 1) {
    const character = ALPHABET[(index * 7919) % ALPHABET.length] as string;
    parts.push(character);
    size += character.length;
  }
  const block = parts.join('');
  return block.repeat(Math.max(1, Math.round(length / block.length)));
}

export function describeCheckpointConformance(getStore: GetStore, P: Ordinal, tampering?: CheckpointTampering): void {
  const checkpoints = (): CheckpointStore => {
    const capability = getStore().checkpoints;
    if (capability === undefined)
      throw new Error('the store has no checkpoints: pass { checkpoints: false } if the adapter cannot keep them');
    return capability;
  };

  describe('checkpoints', () => {
    it('a name never saved loads as undefined', async () => {
      expect(await checkpoints().load('read-side')).toBeUndefined();
    });

    it('a checkpoint saved at position P loads with P and its state; the last save replaces it, even a lower one', async () => {
      const store = checkpoints();
      await store.save('read-side', { position: 42, state: '{"runs":[1,2,3]}' });
      expect(await store.load('read-side')).toEqual({ position: 42, state: '{"runs":[1,2,3]}' });
      await store.save('read-side', { position: 100, state: '{"runs":[]}' });
      expect(await store.load('read-side')).toEqual({ position: 100, state: '{"runs":[]}' });
      // A read model that found its checkpoint ahead of a restored store starts over, and must be able to say so.
      await store.save('read-side', { position: 0, state: '' });
      expect(await store.load('read-side')).toEqual({ position: 0, state: '' });
    });

    it('keeps names apart', async () => {
      const store = checkpoints();
      await store.save('read-side', { position: 1, state: 'a' });
      await store.save('read-side-2', { position: 2, state: 'b' });
      await store.save('snapshot:run-1', { position: 3, state: 'c' });
      expect(await store.load('read-side')).toEqual({ position: 1, state: 'a' });
      expect(await store.load('read-side-2')).toEqual({ position: 2, state: 'b' });
      expect(await store.load('snapshot:run-1')).toEqual({ position: 3, state: 'c' });
      expect(await store.load('read')).toBeUndefined();
      expect(await store.load('READ-SIDE')).toBeUndefined();
    });

    it('a save appends nothing to the log and takes no position', async () => {
      await checkpoints().save('read-side', { position: 7, state: '{}' });
      const store = getStore();
      expect(await store.readAll()).toEqual([]);
      expect((await store.append('s', [anEvent('A')])).position).toBe(await P(1));
    });

    it('of 20 concurrent saves under one name, what loads is exactly one of them, whole', async () => {
      const store = checkpoints();
      const stateAt = (position: number): string => JSON.stringify({ position, body: mixedText(10_000 + position) });
      await Promise.all(range(20).map((position) => store.save('race', { position, state: stateAt(position) })));
      const loaded = await store.load('race');
      expect(loaded).toBeDefined();
      expect(loaded?.state).toBe(stateAt(loaded?.position ?? -1));
    });

    it('round-trips a 4 MB state of mixed text intact', async () => {
      const state = mixedText(4 * 1024 * 1024);
      await checkpoints().save('large', { position: 9, state });
      const loaded = await checkpoints().load('large');
      expect(loaded?.position).toBe(9);
      expect(loaded?.state === state).toBe(true);
    });

    it('rejects invalid arguments with a TypeError, and keeps what was saved', async () => {
      const store = checkpoints();
      await store.save('kept', { position: 5, state: 'before' });
      const calls: Array<[unknown, unknown]> = [
        ['', { position: 1, state: 'x' }],
        ['n'.repeat(201), { position: 1, state: 'x' }],
        ['bad\u0000name', { position: 1, state: 'x' }],
        ['kept', { position: -1, state: 'x' }],
        ['kept', { position: 1.5, state: 'x' }],
        ['kept', { position: Number.NaN, state: 'x' }],
        ['kept', { position: 1, state: { not: 'text' } }],
        ['kept', { position: 1, state: 'nul \u0000 inside' }],
        ['kept', { position: 1, state: 'lone \ud800 surrogate' }],
        ['kept', null],
      ];
      for (const [name, checkpoint] of calls) {
        const error = await rejection(store.save(name as string, checkpoint as { position: number; state: string }));
        expect(error).toBeInstanceOf(TypeError);
      }
      expect(await rejection(store.load(''))).toBeInstanceOf(TypeError);
      expect(await store.load('kept')).toEqual({ position: 5, state: 'before' });
    });

    it('refuses a stored checkpoint that is not what was saved with CheckpointCorruptError; a new save repairs it', async () => {
      if (tampering === undefined)
        throw new Error('pass { checkpoints: { corrupt } } so the suite can check that corruption is refused');
      const store = checkpoints();
      await store.save('damaged', { position: 12, state: '{"runs":["r1"]}' });
      await store.save('intact', { position: 13, state: '{"runs":["r2"]}' });
      await tampering.corrupt('damaged');

      const error = await rejection(store.load('damaged'));
      expect(error).toBeInstanceOf(CheckpointCorruptError);
      expect(error).toMatchObject({ code: 'STORE.CHECKPOINT_CORRUPT', checkpoint: 'damaged', retryable: false });
      expect((error as Error).message).toMatch(/checkpoint 'damaged' is corrupt/);
      expect(await store.load('intact')).toEqual({ position: 13, state: '{"runs":["r2"]}' });

      await store.save('damaged', { position: 14, state: '{}' });
      expect(await store.load('damaged')).toEqual({ position: 14, state: '{}' });
    });

    it('once the store is closed, load and save fail with EventStoreClosedError', async () => {
      const store = getStore();
      const capability = checkpoints();
      await store.close();
      expect(await rejection(capability.load('read-side'))).toBeInstanceOf(EventStoreClosedError);
      expect(await rejection(capability.save('read-side', { position: 1, state: '' }))).toBeInstanceOf(
        EventStoreClosedError,
      );
    });
  });
}

/** For an adapter that keeps no checkpoints: it says so, and read models fall back to replaying the log. */
export function describeNoCheckpoints(getStore: GetStore): void {
  describe('checkpoints', () => {
    it('are absent, so read models replay the log from position 0', () => {
      expect(getStore().checkpoints).toBeUndefined();
    });
  });
}
