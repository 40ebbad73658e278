import { createHash } from 'node:crypto';

/*
 * A run's trace id is derived from its run id, so every service can put its spans for a run into the one trace
 * even when no header carried the context to it (a timer firing, a recovery after a restart). The rule is the
 * one `traceparentFor` in libs/runtime has always used: the first 32 hex digits of sha256(runId).
 */

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function requireRunId(runId: string): string {
  if (typeof runId !== 'string' || runId.length === 0)
    throw new Error('runId must be a non-empty string to derive its trace id');
  return runId;
}

// An all-zero id is invalid in W3C trace context; sha256 yields one with probability 2^-64, but a broken trace
// would be silent, so it is mapped to a valid id instead.
function nonZero(hex: string): string {
  return /^0+$/.test(hex) ? `${hex.slice(0, -1)}1` : hex;
}

/** How many runs' ids are kept: each span of a run asks for them, and a hash costs more than the span. */
const REMEMBERED_RUNS = 4_096;
const runIds = new Map<string, { readonly traceId: string; readonly spanId: string }>();

function idsOfRun(runId: string): { readonly traceId: string; readonly spanId: string } {
  const known = runIds.get(requireRunId(runId));
  if (known !== undefined) return known;
  const hex = sha256Hex(runId);
  const ids = { traceId: nonZero(hex.slice(0, 32)), spanId: nonZero(hex.slice(32, 48)) };
  if (runIds.size >= REMEMBERED_RUNS) runIds.delete(runIds.keys().next().value as string);
  runIds.set(runId, ids);
  return ids;
}

/** The trace id of a run: the first 32 hex digits of sha256(runId). */
export function traceIdForRun(runId: string): string {
  return idsOfRun(runId).traceId;
}

/**
 * The span id that stands for the run itself: the next 16 hex digits of sha256(runId). No service exports a span
 * with this id; spans that start a run's work with no incoming header hang under it, and trace viewers show it
 * as the trace's (remote) root.
 */
export function spanIdForRun(runId: string): string {
  return idsOfRun(runId).spanId;
}

/** A span id derived from any key (an attempt's idempotency key, say): the first 16 hex digits of sha256(key). */
export function spanIdForKey(key: string): string {
  if (typeof key !== 'string' || key.length === 0)
    throw new Error('key must be a non-empty string to derive a span id');
  return nonZero(sha256Hex(key).slice(0, 16));
}

/**
 * A sampled W3C `traceparent` in the run's trace. With a `spanKey` it is exactly what libs/runtime's
 * `traceparentFor(runId, spanKey)` produces; without one, the parent is the run's own span id.
 */
export function traceparentForRun(runId: string, spanKey?: string): string {
  const spanId = spanKey === undefined ? spanIdForRun(runId) : spanIdForKey(spanKey);
  return `00-${traceIdForRun(runId)}-${spanId}-01`;
}
