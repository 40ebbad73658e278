import type { BusMessage } from '@orchestron/bus';
import { deadLetter } from './codec.ts';
import type { RawRecord } from './codec.ts';
import { describeError, KafkaBusError } from './errors.ts';
import type { KafkaBusLogger } from './options.ts';

export interface DeadLetterContext {
  readonly topic: string;
  readonly group: string;
  readonly publish: (topic: string, messages: readonly BusMessage[]) => Promise<void>;
  readonly logger: KafkaBusLogger;
  /** True once the subscription is closing: stop retrying and leave the message to the next member. */
  readonly stopping: () => boolean;
}

/**
 * Writes a failed message to the dead-letter topic. Returns true once it is there (the caller then commits
 * past it), false when the subscription closes first (the message stays uncommitted and is delivered again).
 * A letter the broker refuses for good (too large with its original) is sent without the original, and
 * if even that is refused it is logged and dropped: consumption never stalls on one message.
 */
export async function sendToDeadLetters(
  context: DeadLetterContext,
  raw: RawRecord,
  at: { topic: string; partition: number; offset: number },
  reason: string,
): Promise<boolean> {
  const letter = deadLetter(raw, at, context.group, reason);
  const fields = { group: context.group, topic: at.topic, partition: at.partition, offset: at.offset, reason };
  let withoutOriginal = false;
  for (let attempt = 0; ; attempt++) {
    try {
      const value = withoutOriginal ? { ...letter.value, original: null } : letter.value;
      await context.publish(context.topic, [{ key: letter.key, value, headers: letter.headers }]);
      context.logger.warn('kafka message dead-lettered', { ...fields, deadLetterTopic: context.topic });
      return true;
    } catch (error) {
      const retryable = error instanceof KafkaBusError && error.retryable;
      if (!retryable && !withoutOriginal) {
        withoutOriginal = true;
        continue;
      }
      if (!retryable) {
        context.logger.error('kafka dead-letter topic refused the message; skipping it', {
          ...fields,
          error: describeError(error),
        });
        return true;
      }
      if (context.stopping()) return false;
      context.logger.warn('kafka dead-letter publish failed; retrying', {
        ...fields,
        attempt,
        error: describeError(error),
      });
      await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 200 * 2 ** attempt)));
    }
  }
}
