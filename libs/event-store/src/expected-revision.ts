import type { ExpectedRevision } from './event-store.port.ts';

/** `actual` is the revision of the stream's last event, or null when the stream does not exist. */
export function isExpectedRevisionSatisfied(expected: ExpectedRevision, actual: number | null): boolean {
  if (typeof expected === 'number') return actual === expected;
  switch (expected) {
    case 'any':
      return true;
    case 'no_stream':
      return actual === null;
    case 'stream_exists':
      return actual !== null;
    default: {
      const unreachable: never = expected;
      throw new TypeError(`unknown expected revision ${String(unreachable)}`);
    }
  }
}
