import { randomFillSync } from 'node:crypto';
import { v7 } from 'uuid';

/** Random bytes for ids, filled 4 KiB at a time: one getRandomValues call per id costs more than the id itself. */
const POOL_BYTES = 4096;
let pool = new Uint8Array(0);
let used = POOL_BYTES;

function random16(): Uint8Array {
  if (used + 16 > pool.length) {
    pool = randomFillSync(new Uint8Array(POOL_BYTES));
    used = 0;
  }
  const bytes = pool.subarray(used, used + 16);
  used += 16;
  return bytes;
}

/**
 * A new run's id: a UUID version 7 (RFC 9562), whose first 48 bits are the time in milliseconds and whose other
 * 74 are random. Runs started close together get ids close together, so the store's index on stream ids takes
 * the runs in flight in a few pages rather than one page each (ADR 45).
 */
export function newRunId(): string {
  return v7({ random: random16() });
}
