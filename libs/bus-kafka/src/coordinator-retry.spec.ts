import { describe, expect, it } from '@jest/globals';
import { MultipleErrors, NetworkError, ProtocolError } from '@platformatic/kafka';
import { coordinatorNotReady, retryWhileCoordinatorNotReady } from './coordinator-retry.ts';
import { KafkaBusError } from './errors.ts';
import type { KafkaBusLogger } from './options.ts';

/** What the subscription's connect throws when the client gave up on a join: the client's errors as the cause. */
function joinFailed(apiId: string): KafkaBusError {
  const inner = [
    new ProtocolError(apiId),
    new ProtocolError(apiId),
    new ProtocolError(apiId),
    new ProtocolError(apiId),
  ];
  return new KafkaBusError('BUS.UNAVAILABLE', 'subscribe group g to t: Kafka is unavailable', {
    cause: new MultipleErrors('joinGroup failed 4 times.', inner),
  });
}

function recordingLogger(): KafkaBusLogger & { readonly warnings: Record<string, unknown>[] } {
  const warnings: Record<string, unknown>[] = [];
  return { info: () => undefined, error: () => undefined, warn: (_m, fields = {}) => warnings.push(fields), warnings };
}

describe('coordinatorNotReady', () => {
  it.each(['NOT_COORDINATOR', 'COORDINATOR_NOT_AVAILABLE', 'COORDINATOR_LOAD_IN_PROGRESS'])(
    'finds %s in the client error behind ours',
    (apiId) => {
      expect(coordinatorNotReady(joinFailed(apiId))).toBe(apiId);
      expect(coordinatorNotReady(new ProtocolError(apiId))).toBe(apiId);
    },
  );

  it('says nothing of other failures, and of things that are not errors or that loop', () => {
    const looping = new Error('loops');
    (looping as { cause?: unknown }).cause = looping;
    for (const error of [
      joinFailed('GROUP_AUTHORIZATION_FAILED'),
      new NetworkError('connection refused'),
      new Error('NOT_COORDINATOR'),
      { apiId: 'NOT_COORDINATOR' },
      'NOT_COORDINATOR',
      null,
      undefined,
      looping,
    ])
      expect(coordinatorNotReady(error)).toBeUndefined();
  });
});

describe('retryWhileCoordinatorNotReady', () => {
  it('joins again while the coordinator is not ready, with growing, jittered gaps, and returns what the join gave', async () => {
    const logger = recordingLogger();
    const at: number[] = [];
    const answers = ['COORDINATOR_NOT_AVAILABLE', 'NOT_COORDINATOR', 'COORDINATOR_LOAD_IN_PROGRESS'];
    const result = await retryWhileCoordinatorNotReady(
      async () => {
        at.push(performance.now());
        const answer = answers[at.length - 1];
        if (answer !== undefined) throw joinFailed(answer);
        return 'joined';
      },
      { group: 'g', deadlineMs: 10_000, logger, minDelayMs: 20, maxDelayMs: 1_000 },
    );
    expect(result).toBe('joined');
    expect(at).toHaveLength(4);
    const gaps = at.slice(1).map((t, i) => t - (at[i] as number));
    // minDelay × 2^n × a factor in [1, 2): the first gap is under 40 ms, the third at least 80 ms.
    expect(gaps[0]).toBeGreaterThanOrEqual(19);
    expect(gaps[2]).toBeGreaterThanOrEqual(79);
    expect(gaps[2]).toBeGreaterThan(gaps[0] as number);
    expect(logger.warnings.map((w) => w.answer)).toEqual(answers);
    expect(logger.warnings[0]).toMatchObject({ group: 'g', attempt: 1, deadlineMs: 10_000 });
  });

  it('throws any other failure at once, as it came', async () => {
    const denied = joinFailed('GROUP_AUTHORIZATION_FAILED');
    let attempts = 0;
    await expect(
      retryWhileCoordinatorNotReady(
        async () => {
          attempts++;
          throw denied;
        },
        { group: 'g', deadlineMs: 10_000, logger: recordingLogger(), minDelayMs: 1 },
      ),
    ).rejects.toBe(denied);
    expect(attempts).toBe(1);
  });

  it('gives up at the deadline with a retryable BUS.UNAVAILABLE that names the group, the limit and the answer', async () => {
    const began = performance.now();
    let attempts = 0;
    const error = await retryWhileCoordinatorNotReady(
      async () => {
        attempts++;
        throw joinFailed('NOT_COORDINATOR');
      },
      { group: 'orchestron-worker-mail', deadlineMs: 300, logger: recordingLogger(), minDelayMs: 20, maxDelayMs: 50 },
    ).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    const elapsed = performance.now() - began;
    expect(error).toBeInstanceOf(KafkaBusError);
    expect(error).toMatchObject({ code: 'BUS.UNAVAILABLE', retryable: true });
    const message = (error as Error).message;
    expect(message).toContain('group orchestron-worker-mail');
    expect(message).toContain('not ready within 300 ms');
    expect(message).toContain('last answered NOT_COORDINATOR');
    expect(message).toContain(`${attempts} joins`);
    expect(attempts).toBeGreaterThan(3);
    expect(elapsed).toBeGreaterThanOrEqual(295);
    expect(elapsed).toBeLessThan(1_500);
  });
});
