import { describe, expect, it } from '@jest/globals';
import type { RecordedEvent } from '@orchestron/event-store';
import { RunIndex } from './run-index.ts';
import { MAX_OPEN_WAITS, RunWaits, ServerBusyError } from './run-waits.ts';

let position = 0;
const recorded = (runId: string, type: string, data: Record<string, unknown>): RecordedEvent =>
  ({
    streamId: `run-${runId}`,
    revision: 0,
    position: ++position,
    type,
    data,
    metadata: {},
    recordedAt: new Date(0).toISOString(),
  }) as unknown as RecordedEvent;
const started = (runId: string): RecordedEvent =>
  recorded(runId, 'RunStarted', { runId, definition: { id: 'd', version: 1, steps: {}, order: [] }, input: null });

describe('RunWaits', () => {
  const setup = () => {
    const index = new RunIndex();
    const waits = new RunWaits(index);
    const project = (event: RecordedEvent): void => {
      index.apply(event);
      waits.notice(event.streamId.slice('run-'.length));
    };
    return { index, waits, project };
  };

  it('wakes a wait when the run ends, and only then', async () => {
    const { waits, project } = setup();
    project(started('r1'));
    let done = false;
    const waiting = waits.wait('r1', { timeoutMs: 60_000 }).then((r) => ((done = true), r));
    project(recorded('r1', 'RunPaused', { by: 'op' }));
    await Promise.resolve();
    expect(done).toBe(false);
    expect(waits.openWaits).toBe(1);
    project(recorded('r1', 'RunCancelled', { by: 'op', reason: 'x' }));
    const result = await waiting;
    expect(result).toMatchObject({ ended: true, timedOut: false });
    expect(result.summary?.status).toBe('cancelled');
    expect(waits.openWaits).toBe(0);
  });

  it('with after, wakes at the first event past it', async () => {
    const { index, waits, project } = setup();
    project(started('r1'));
    const after = index.get('r1')?.position ?? -1;
    const waiting = waits.wait('r1', { timeoutMs: 60_000, after });
    project(recorded('r1', 'RunPaused', { by: 'op' }));
    expect(await waiting).toMatchObject({ ended: false, timedOut: false });
    // Already past: answers at once.
    expect(await waits.wait('r1', { timeoutMs: 60_000, after })).toMatchObject({ timedOut: false });
  });

  it('times out, and lets go of a caller that aborted, leaving nothing open', async () => {
    const { waits, project } = setup();
    project(started('r1'));
    expect(await waits.wait('r1', { timeoutMs: 5 })).toMatchObject({ ended: false, timedOut: true });
    const gone = new AbortController();
    const waiting = waits.wait('r1', { timeoutMs: 60_000, signal: gone.signal });
    expect(waits.openWaits).toBe(1);
    gone.abort();
    expect(await waiting).toMatchObject({ timedOut: true });
    expect(waits.openWaits).toBe(0);
    expect(await waits.wait('unknown', { timeoutMs: 0 })).toEqual({ summary: undefined, ended: false, timedOut: true });
  });

  it('refuses a wait past the open-wait limit with a retryable SERVER.BUSY, and close ends them all', async () => {
    const { waits, project } = setup();
    project(started('r1'));
    const open = Array.from({ length: MAX_OPEN_WAITS }, () => waits.wait('r1', { timeoutMs: 60_000 }));
    let refused: unknown;
    try {
      await waits.wait('r1', { timeoutMs: 60_000 });
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(ServerBusyError);
    expect(refused).toMatchObject({ code: 'SERVER.BUSY', retryable: true, details: { max: MAX_OPEN_WAITS } });
    waits.close();
    const results = await Promise.all(open);
    expect(results.every((r) => r.timedOut)).toBe(true);
    expect(waits.openWaits).toBe(0);
  });
});
