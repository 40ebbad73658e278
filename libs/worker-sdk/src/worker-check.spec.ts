import { describe, expect, it } from '@jest/globals';
import { workerCheckHandler } from './worker-check.ts';
import type { StepContext } from './worker.ts';

const run = (input: unknown, signal = new AbortController().signal) =>
  workerCheckHandler({ input, signal } as unknown as StepContext);

describe('workerCheckHandler', () => {
  it('echoes the nonce with an execution id new to each run', async () => {
    const [a, b] = await Promise.all([run({ sleepMs: 0, nonce: 'n' }), run({ sleepMs: 0, nonce: 'n' })]);
    expect(a).toEqual({ nonce: 'n', execution: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect((a as { execution: string }).execution).not.toBe((b as { execution: string }).execution);
  });

  it('does not wait on input that is not a sane sleep, and answers any input', async () => {
    const began = Date.now();
    for (const input of [null, 'x', [], { sleepMs: -5 }, { sleepMs: 1.5 }, { sleepMs: '100' }, { sleepMs: Infinity }])
      expect(await run(input)).toMatchObject({ nonce: null });
    expect(Date.now() - began).toBeLessThan(500);
  });

  it('waits sleepMs, and stops when the attempt is aborted', async () => {
    const began = Date.now();
    await run({ sleepMs: 120 });
    expect(Date.now() - began).toBeGreaterThanOrEqual(100);
    const controller = new AbortController();
    const pending = run({ sleepMs: 60_000 }, controller.signal);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });
});
