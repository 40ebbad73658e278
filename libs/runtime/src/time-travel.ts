import type { RecordedEvent } from '@orchestron/event-store';
import type { RunData } from '@orchestron/workflow-core';
import { replay } from './replay.ts';

/** A point in a run's history: after the event of this revision, or after the last event recorded by this time. */
export type AsOf = { readonly revision: number } | { readonly time: Date };

/** The run as it was at a point of its history, and where that point is. */
export interface PastRun {
  readonly run: RunData;
  /** The revision of the last event folded in. */
  readonly revision: number;
  readonly recordedAt: string;
  readonly eventType: string;
  /** The revision of the run's newest event, to show how far back this is. */
  readonly latestRevision: number;
}

/** Why a point cannot be shown; the message names the value and the bound it broke. */
export interface AsOfRefusal {
  readonly refused: string;
}

// An instant in ISO 8601 as the API writes them: a date, or a date and a time with seconds optional and a zone.
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

/** Reads `at` as a revision (digits) or an ISO 8601 instant; anything else is refused with what was expected. */
export function parseAsOf(text: string): AsOf | AsOfRefusal {
  if (/^\d{1,15}$/.test(text)) return { revision: Number(text) };
  const time = ISO_INSTANT.test(text) ? new Date(text) : undefined;
  if (time !== undefined && Number.isFinite(time.getTime())) return { time };
  return {
    refused: `at ${JSON.stringify(text.slice(0, 64))} is neither a revision (a non-negative integer) nor an ISO 8601 time such as 2026-12-06T10:00:00Z`,
  };
}

/**
 * The fold of a run's events up to `at` (guarantee 9: a run's state is the fold of its stream). `events` is the whole
 * stream in order. A revision past the newest, a time before the first event or in the future, is refused.
 */
export function runAsOf(events: readonly RecordedEvent[], at: AsOf, now: Date = new Date()): PastRun | AsOfRefusal {
  const latest = events.at(-1);
  if (latest === undefined) return { refused: 'the run has no events' };
  const upTo = 'revision' in at ? revisionAt(events, at.revision) : lastRecordedBy(events, at.time, now);
  if (typeof upTo !== 'number') return upTo;
  const state = replay(events.slice(0, upTo + 1));
  if (state.status === 'none') return { refused: `the run had not started at revision ${upTo}` };
  const event = events[upTo] as RecordedEvent;
  return {
    run: state,
    revision: event.revision,
    recordedAt: event.recordedAt,
    eventType: event.type,
    latestRevision: latest.revision,
  };
}

function revisionAt(events: readonly RecordedEvent[], revision: number): number | AsOfRefusal {
  const latest = (events.at(-1) as RecordedEvent).revision;
  if (revision > latest)
    return { refused: `at ${revision} is past the run's newest revision, ${latest} (revisions count from 0)` };
  return events.findIndex((e) => e.revision === revision);
}

function lastRecordedBy(events: readonly RecordedEvent[], time: Date, now: Date): number | AsOfRefusal {
  if (time.getTime() > now.getTime())
    return { refused: `at ${time.toISOString()} is in the future (the server's time is ${now.toISOString()})` };
  let upTo = -1;
  for (const [index, event] of events.entries()) {
    if (Date.parse(event.recordedAt) > time.getTime()) break;
    upTo = index;
  }
  if (upTo < 0)
    return {
      refused: `at ${time.toISOString()} is before the run began (its first event was recorded at ${(events[0] as RecordedEvent).recordedAt})`,
    };
  return upTo;
}
