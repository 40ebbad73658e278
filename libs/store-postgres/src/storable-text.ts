import type { PreparedAppend } from '@orchestron/event-store/adapter';

// Postgres text cannot hold U+0000, and pg would encode a lone surrogate as U+FFFD, so the stream would come
// back under another id. JSON needs no check: JSON.stringify escapes both.
const UNPAIRED_SURROGATE = /\p{Cs}/u;

/** Rejects, as the other argument checks do, the strings Postgres would refuse or silently change. */
export function assertStorable(append: PreparedAppend): void {
  check(append.streamId, 'streamId');
  append.events.forEach((event, index) => {
    check(event.id, `events[${index}].id`);
    check(event.type, `events[${index}].type`);
  });
}

function check(value: string, field: string): void {
  if (value.includes('\u0000') || UNPAIRED_SURROGATE.test(value))
    throw new TypeError(`${field} must not contain U+0000 or unpaired surrogates, which PostgreSQL cannot store`);
}
