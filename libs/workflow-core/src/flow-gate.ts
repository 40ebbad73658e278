/**
 * The per-worker flow gate the runtime consults before it sends an attempt: a circuit breaker, a concurrency
 * limit and a rate (a token bucket; guarantee 8). Pure: time comes in as `now`, and the state is plain data, so the runtime can rebuild it by
 * folding what it saw (admissions and outcomes) after a restart. When the gate refuses, the runtime holds the attempt
 * (`HoldStep`) and releases it (`ReleaseStep`) once `admit` lets it through. docs/adr/0009-flow-control.md says why
 * this is not a circuit-breaker library, docs/adr/0031-rate-limits.md why the bucket is not a rate-limiter library.
 */
import { assertNever } from './evolve.ts';
import type { HoldReason } from './messages.ts';

export interface FlowGateConfig {
  /** Consecutive failed attempts that open the breaker. */
  readonly failureThreshold: number;
  /** How long an open breaker refuses everything before it lets probes through. */
  readonly openMs: number;
  /** Attempts let through at once while half-open; the first that succeeds closes the breaker. */
  readonly halfOpenProbes: number;
  /** Attempts in flight at once for the worker name; `Infinity` for no limit. */
  readonly concurrency: number;
  /** Attempts sent per second for the worker name, on average; `Infinity` for no limit. */
  readonly rate: number;
  /** Attempts that may go out at once after a quiet spell (the bucket's size); the rate refills it. */
  readonly burst: number;
}

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface WorkerFlowState {
  readonly breaker: BreakerState;
  readonly consecutiveFailures: number;
  /** When the breaker last opened; it names the open period, so a probe's outcome is matched to it. */
  readonly openedAt: number | null;
  readonly inflight: number;
  readonly probesInFlight: number;
  /** Tokens in the rate bucket as of `refilledAt`; null while the bucket was never drawn from (it is full). */
  readonly tokens: number | null;
  readonly refilledAt: number;
}

/**
 * `probe` is null for an ordinary attempt; for a half-open probe it is the `openedAt` of the period it probes. The
 * runtime keeps it with the attempt and hands it back with the outcome.
 */
export type Admission =
  | { readonly admitted: true; readonly probe: number | null; readonly state: WorkerFlowState }
  | {
      readonly admitted: false;
      readonly reason: Exclude<HoldReason, 'lock'>;
      readonly retryAt: number | null;
      readonly state: WorkerFlowState;
    };

export interface AttemptOutcome {
  readonly success: boolean;
  readonly probe: number | null;
}

export const DEFAULT_FLOW_GATE: FlowGateConfig = {
  failureThreshold: 5,
  openMs: 30_000,
  halfOpenProbes: 1,
  concurrency: Infinity,
  rate: Infinity,
  burst: 1,
};

export function initialFlowState(): WorkerFlowState {
  return {
    breaker: 'closed',
    consecutiveFailures: 0,
    openedAt: null,
    inflight: 0,
    probesInFlight: 0,
    tokens: null,
    refilledAt: 0,
  };
}

/** The defaults overridden by `partial`, checked: a bad value throws a RangeError naming the field. */
export function flowGateConfig(partial: Partial<FlowGateConfig> = {}): FlowGateConfig {
  const config = { ...DEFAULT_FLOW_GATE, ...partial };
  const atLeastOne = (field: 'failureThreshold' | 'halfOpenProbes'): void => {
    if (!Number.isInteger(config[field]) || config[field] < 1)
      throw new RangeError(`flow gate ${field} must be an integer of at least 1, got ${String(config[field])}`);
  };
  atLeastOne('failureThreshold');
  atLeastOne('halfOpenProbes');
  if (!Number.isFinite(config.openMs) || config.openMs < 0)
    throw new RangeError(
      `flow gate openMs must be a finite number of milliseconds, 0 or more, got ${String(config.openMs)}`,
    );
  if (config.concurrency !== Infinity && (!Number.isInteger(config.concurrency) || config.concurrency < 1)) {
    throw new RangeError(
      `flow gate concurrency must be an integer of at least 1 (or Infinity for no limit), got ${String(config.concurrency)}`,
    );
  }
  if (config.rate !== Infinity && (!Number.isFinite(config.rate) || config.rate <= 0))
    throw new RangeError(
      `flow gate rate must be a number of attempts per second above 0 (or Infinity for no limit), got ${String(config.rate)}`,
    );
  if (!Number.isInteger(config.burst) || config.burst < 1)
    throw new RangeError(`flow gate burst must be an integer of at least 1, got ${String(config.burst)}`);
  return config;
}

/** The state as of `now`: an open breaker whose `openMs` has passed is half-open. */
export function flowStateAt(config: FlowGateConfig, state: WorkerFlowState, now: number): WorkerFlowState {
  if (state.breaker === 'open' && state.openedAt !== null && now >= state.openedAt + config.openMs)
    return { ...state, breaker: 'half_open', probesInFlight: 0 };
  return state;
}

/** Whether an attempt may be sent now; if so, it takes a slot (and, half-open, a probe) in the returned state. */
export function admit(config: FlowGateConfig, state: WorkerFlowState, now: number): Admission {
  const s = flowStateAt(config, state, now);
  switch (s.breaker) {
    case 'open':
      return { admitted: false, reason: 'breaker_open', retryAt: (s.openedAt ?? now) + config.openMs, state: s };
    case 'half_open':
      if (s.probesInFlight >= config.halfOpenProbes)
        return { admitted: false, reason: 'breaker_open', retryAt: null, state: s };
      if (s.inflight >= config.concurrency)
        return { admitted: false, reason: 'concurrency_limit', retryAt: null, state: s };
      return takeToken(
        config,
        s,
        { ...s, inflight: s.inflight + 1, probesInFlight: s.probesInFlight + 1 },
        s.openedAt,
        now,
      );
    case 'closed':
      if (s.inflight >= config.concurrency)
        return { admitted: false, reason: 'concurrency_limit', retryAt: null, state: s };
      return takeToken(config, s, { ...s, inflight: s.inflight + 1 }, null, now);
    default:
      return assertNever(s.breaker);
  }
}

/** Tokens in the bucket at `now`: what was left, plus `rate` a second since, up to `burst`. */
export function tokensAt(config: FlowGateConfig, state: WorkerFlowState, now: number): number {
  if (state.tokens === null || config.rate === Infinity) return config.burst;
  const refilled = state.tokens + (Math.max(0, now - state.refilledAt) * config.rate) / 1000;
  return Math.min(config.burst, refilled);
}

/** When the bucket next holds a whole token; null when it holds one now (or there is no rate). */
export function nextTokenAt(config: FlowGateConfig, state: WorkerFlowState, now: number): number | null {
  const tokens = tokensAt(config, state, now);
  if (tokens + TOKEN_EPSILON >= 1) return null;
  return now + Math.ceil(((1 - tokens) * 1000) / config.rate);
}

// Refill is fractional arithmetic: a token due at `nextTokenAt` may come out as 0.9999999 of one.
const TOKEN_EPSILON = 1e-9;

/**
 * The last check: an attempt the breaker and the concurrency limit let through still needs a token. Refused, the state
 * is left as it was `before` (the slot it would have taken stays free) and `retryAt` says when a token will be there.
 */
function takeToken(
  config: FlowGateConfig,
  before: WorkerFlowState,
  taken: WorkerFlowState,
  probe: number | null,
  now: number,
): Admission {
  if (config.rate === Infinity) return { admitted: true, probe, state: taken };
  const tokens = tokensAt(config, before, now);
  if (tokens + TOKEN_EPSILON < 1)
    return { admitted: false, reason: 'rate_limit', retryAt: nextTokenAt(config, before, now), state: before };
  return { admitted: true, probe, state: { ...taken, tokens: Math.max(0, tokens - 1), refilledAt: now } };
}

/** Counts an attempt that is already out without asking (after a restart, attempts sent before it still hold slots). */
export function onDispatched(state: WorkerFlowState): WorkerFlowState {
  return { ...state, inflight: state.inflight + 1 };
}

/**
 * An attempt's outcome frees its slot and moves the breaker. Closed: failures in a row open it. Half-open: the
 * probes decide (a success closes it, a failure reopens it); attempts sent before it opened only free their slot.
 * What counts as a failure (timeouts, infrastructure errors, not a worker's business "no") is the runtime's call.
 */
export function onOutcome(
  config: FlowGateConfig,
  state: WorkerFlowState,
  outcome: AttemptOutcome,
  now: number,
): WorkerFlowState {
  const s = flowStateAt(config, state, now);
  const isProbe = s.breaker === 'half_open' && outcome.probe !== null && outcome.probe === s.openedAt;
  const freed = {
    ...s,
    inflight: Math.max(0, s.inflight - 1),
    probesInFlight: isProbe ? Math.max(0, s.probesInFlight - 1) : s.probesInFlight,
  };
  switch (s.breaker) {
    case 'closed': {
      if (outcome.success) return { ...freed, consecutiveFailures: 0 };
      const failures = s.consecutiveFailures + 1;
      return failures >= config.failureThreshold
        ? open(freed, failures, now)
        : { ...freed, consecutiveFailures: failures };
    }
    case 'half_open':
      if (!isProbe) return freed;
      return outcome.success
        ? { ...freed, breaker: 'closed', consecutiveFailures: 0, openedAt: null, probesInFlight: 0 }
        : open(freed, s.consecutiveFailures + 1, now);
    case 'open':
      return freed;
    default:
      return assertNever(s.breaker);
  }
}

/** Frees the slot of an attempt that ended without telling anything about the worker (its run was cancelled). */
export function onAbandoned(
  config: FlowGateConfig,
  state: WorkerFlowState,
  probe: number | null,
  now: number,
): WorkerFlowState {
  const s = flowStateAt(config, state, now);
  const isProbe = s.breaker === 'half_open' && probe !== null && probe === s.openedAt;
  return {
    ...s,
    inflight: Math.max(0, s.inflight - 1),
    probesInFlight: isProbe ? Math.max(0, s.probesInFlight - 1) : s.probesInFlight,
  };
}

function open(s: WorkerFlowState, failures: number, now: number): WorkerFlowState {
  return { ...s, breaker: 'open', consecutiveFailures: failures, openedAt: now, probesInFlight: 0 };
}
