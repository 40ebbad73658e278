import {
  admit,
  flowGateConfig,
  flowStateAt,
  initialFlowState,
  nextTokenAt,
  onAbandoned,
  onDispatched,
  onOutcome,
} from '@orchestron/workflow-core';
import type { FlowGateConfig, HoldReason as AnyHoldReason, WorkerFlowState } from '@orchestron/workflow-core';
import { InflightAttempts } from './inflight-attempts.ts';

/** What flow control holds attempts for; a lock hold is the lock table's (resource-locks.ts), not a worker's. */
export type HoldReason = Exclude<AnyHoldReason, 'lock'>;

/** Flow-control settings: defaults for every worker name, and overrides per worker name. */
export interface FlowControlSettings {
  readonly defaults?: Partial<FlowGateConfig>;
  readonly workers?: Readonly<Record<string, Partial<FlowGateConfig>>>;
}

/** An attempt the gate refused; it waits here (held in its run's stream) until the gate lets it through. */
export interface HeldAttempt {
  readonly runId: string;
  readonly stepId: string;
  readonly attempt: number;
  readonly phase: 'execute' | 'compensate';
  readonly worker: string;
  /** Why it was held, as its StepHeld says (status shows it so; the gate may refuse it later for another reason). */
  readonly reason: HoldReason;
}

export interface FlowSnapshot {
  readonly worker: string;
  readonly state: WorkerFlowState;
  readonly config: FlowGateConfig;
  readonly held: number;
  readonly heldBy: Readonly<Record<HoldReason, number>>;
}

/**
 * Ten consecutive retryable failures open a worker's breaker for 5 s; then one probe decides. No concurrency
 * limit unless configured. A worker that answers with a terminal (business) error is healthy: only retryable
 * failures and timeouts count against it.
 */
export const RUNTIME_FLOW_DEFAULTS: Partial<FlowGateConfig> = {
  failureThreshold: 10,
  openMs: 5_000,
  halfOpenProbes: 1,
};

/**
 * The runtime's side of guarantee 8: one pure flow gate per worker name (libs/workflow-core/src/flow-gate.ts),
 * the attempts it let through, and the queue of attempts it held. Limits (the rate too) are per orchestrator instance,
 * over the runs that instance owns: docs/adr/0031-rate-limits.md says why.
 */
export class FlowControl {
  private readonly settings: FlowControlSettings;
  private readonly configs = new Map<string, FlowGateConfig>();
  private readonly states = new Map<string, WorkerFlowState>();
  private readonly inflight = new InflightAttempts();
  private readonly queues = new Map<string, HeldAttempt[]>();
  private readonly now: () => number;
  private readonly onChange: (snapshot: FlowSnapshot) => void;

  constructor(
    settings: FlowControlSettings,
    now: () => number,
    onChange: (snapshot: FlowSnapshot) => void = () => undefined,
  ) {
    this.settings = settings;
    this.now = now;
    // A metrics hook that throws must not stop an attempt from going out.
    this.onChange = (snapshot) => {
      try {
        onChange(snapshot);
      } catch {
        // metrics are best effort
      }
    };
    // Fail at start, naming the field, rather than at the first dispatch.
    flowGateConfig({ ...RUNTIME_FLOW_DEFAULTS, ...settings.defaults });
    for (const worker of Object.keys(settings.workers ?? {})) this.config(worker);
  }

  /** Asks the gate for one attempt. Admitted attempts count as in flight until `finished` or `abandoned`. */
  request(
    worker: string,
    attemptKey: string,
  ): { admitted: true } | { admitted: false; reason: HoldReason; retryAt: number | null } {
    if (this.inflight.has(attemptKey)) return { admitted: true };
    const decision = admit(this.config(worker), this.state(worker), this.now());
    // An admitted attempt already holds its slot (and probe) in the state admit returns.
    this.setState(worker, decision.state);
    if (!decision.admitted) return { admitted: false, reason: decision.reason, retryAt: decision.retryAt };
    this.inflight.set(attemptKey, { worker, probe: decision.probe });
    return { admitted: true };
  }

  /** An attempt that was out before this process took the run over (recovery): it counts, without asking. */
  track(worker: string, attemptKey: string): void {
    if (this.inflight.has(attemptKey)) return;
    this.inflight.set(attemptKey, { worker, probe: null });
    this.setState(worker, onDispatched(this.state(worker)));
  }

  finished(attemptKey: string, success: boolean): string | null {
    const entry = this.inflight.get(attemptKey);
    if (!entry) return null;
    this.inflight.delete(attemptKey);
    this.setState(
      entry.worker,
      onOutcome(this.config(entry.worker), this.state(entry.worker), { success, probe: entry.probe }, this.now()),
    );
    return entry.worker;
  }

  abandoned(attemptKey: string): string | null {
    const entry = this.inflight.get(attemptKey);
    if (!entry) return null;
    this.inflight.delete(attemptKey);
    this.setState(
      entry.worker,
      onAbandoned(this.config(entry.worker), this.state(entry.worker), entry.probe, this.now()),
    );
    return entry.worker;
  }

  hold(attempt: HeldAttempt): void {
    const queue = this.queues.get(attempt.worker) ?? [];
    if (!queue.some((q) => sameAttempt(q, attempt))) queue.push(attempt);
    this.queues.set(attempt.worker, queue);
    this.onChange(this.snapshot(attempt.worker));
  }

  /** Held attempts of the worker the gate lets through now, oldest first; each is admitted (in flight) already. */
  releasable(worker: string, attemptKey: (held: HeldAttempt) => string): HeldAttempt[] {
    const queue = this.queues.get(worker) ?? [];
    const out: HeldAttempt[] = [];
    while (queue.length > 0) {
      const next = queue[0] as HeldAttempt;
      if (!this.request(worker, attemptKey(next)).admitted) break;
      out.push(queue.shift() as HeldAttempt);
    }
    if (queue.length === 0) this.queues.delete(worker);
    if (out.length > 0) this.onChange(this.snapshot(worker));
    return out;
  }

  /** Abandons a run's attempts in flight; returns the workers whose count went down. */
  abandonRun(runId: string): string[] {
    return this.abandonWhere(runId, () => true);
  }

  /** Abandons the run's attempts in flight that `gone(phase, stepId, attempt)` says are no longer out. */
  abandonWhere(runId: string, gone: (phase: string, stepId: string, attempt: number) => boolean): string[] {
    const workers = new Set<string>();
    for (const key of this.inflight.ofRun(runId)) {
      const [phase = '', stepId = '', attempt = '0'] = key.slice(runId.length + 1).split('/');
      if (!gone(phase, stepId, Number(attempt))) continue;
      const worker = this.abandoned(key);
      if (worker) workers.add(worker);
    }
    return [...workers];
  }

  /** Forgets a run's held attempts (it ended, or moved to another instance). */
  forgetRun(runId: string): void {
    for (const [worker, queue] of this.queues) {
      const kept = queue.filter((q) => q.runId !== runId);
      if (kept.length !== queue.length) {
        if (kept.length === 0) this.queues.delete(worker);
        else this.queues.set(worker, kept);
        this.onChange(this.snapshot(worker));
      }
    }
  }

  /**
   * When the gate of a worker with held attempts may next let one through by itself: an open breaker's end, or the
   * rate bucket's next token. Null when only an attempt ending can free it (a concurrency hold), or nothing is held.
   */
  nextCheck(worker: string): number | null {
    if ((this.queues.get(worker)?.length ?? 0) === 0) return null;
    const state = this.state(worker);
    const config = this.config(worker);
    if (state.breaker === 'open' && state.openedAt !== null) return state.openedAt + config.openMs;
    return nextTokenAt(config, state, this.now());
  }

  workersWithHeld(): string[] {
    return [...this.queues.keys()];
  }

  snapshots(): FlowSnapshot[] {
    return [...new Set([...this.states.keys(), ...this.queues.keys()])].sort().map((worker) => this.snapshot(worker));
  }

  private snapshot(worker: string): FlowSnapshot {
    return {
      worker,
      state: flowStateAt(this.config(worker), this.state(worker), this.now()),
      config: this.config(worker),
      held: this.queues.get(worker)?.length ?? 0,
      heldBy: heldByReason(this.queues.get(worker) ?? []),
    };
  }

  private config(worker: string): FlowGateConfig {
    let config = this.configs.get(worker);
    if (!config) {
      config = flowGateConfig({
        ...RUNTIME_FLOW_DEFAULTS,
        ...this.settings.defaults,
        ...this.settings.workers?.[worker],
      });
      this.configs.set(worker, config);
    }
    return config;
  }

  private state(worker: string): WorkerFlowState {
    return this.states.get(worker) ?? initialFlowState();
  }

  private setState(worker: string, state: WorkerFlowState): void {
    const before = this.states.get(worker);
    this.states.set(worker, state);
    if (before?.breaker !== state.breaker || before?.inflight !== state.inflight) this.onChange(this.snapshot(worker));
  }
}

function heldByReason(queue: readonly HeldAttempt[]): Record<HoldReason, number> {
  const counts: Record<HoldReason, number> = { breaker_open: 0, concurrency_limit: 0, rate_limit: 0 };
  for (const held of queue) counts[held.reason]++;
  return counts;
}

function sameAttempt(a: HeldAttempt, b: HeldAttempt): boolean {
  return a.runId === b.runId && a.stepId === b.stepId && a.attempt === b.attempt && a.phase === b.phase;
}

/**
 * `ORCHESTRON_FLOW_CONTROL`: JSON like
 * `{"defaults":{"failureThreshold":5,"openMs":30000},"workers":{"payments":{"concurrency":4,"rate":10,"burst":2}}}`.
 * A bad value throws an error naming the variable and the field.
 */
export function flowControlFromEnv(text: string | undefined): FlowControlSettings {
  if (text === undefined || text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`ORCHESTRON_FLOW_CONTROL is not JSON: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  const fields = ['failureThreshold', 'openMs', 'halfOpenProbes', 'concurrency', 'rate', 'burst'];
  const check = (value: unknown, where: string): Partial<FlowGateConfig> => {
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw new Error(`ORCHESTRON_FLOW_CONTROL.${where} must be an object`);
    for (const [key, v] of Object.entries(value)) {
      if (!fields.includes(key))
        throw new Error(`ORCHESTRON_FLOW_CONTROL.${where}.${key} is not a setting (use ${fields.join(', ')})`);
      if (typeof v !== 'number') throw new Error(`ORCHESTRON_FLOW_CONTROL.${where}.${key} must be a number`);
    }
    try {
      flowGateConfig(value as Partial<FlowGateConfig>);
    } catch (error) {
      throw new Error(`ORCHESTRON_FLOW_CONTROL.${where}: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
    }
    return value as Partial<FlowGateConfig>;
  };
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new Error('ORCHESTRON_FLOW_CONTROL must be a JSON object with "defaults" and/or "workers"');
  const { defaults, workers, ...rest } = parsed as { defaults?: unknown; workers?: unknown };
  const unknown = Object.keys(rest);
  if (unknown.length > 0)
    throw new Error(`ORCHESTRON_FLOW_CONTROL.${unknown[0]} is not a setting (use defaults, workers)`);
  const out: { defaults?: Partial<FlowGateConfig>; workers?: Record<string, Partial<FlowGateConfig>> } = {};
  if (defaults !== undefined) out.defaults = check(defaults, 'defaults');
  if (workers !== undefined) {
    if (workers === null || typeof workers !== 'object' || Array.isArray(workers))
      throw new Error('ORCHESTRON_FLOW_CONTROL.workers must be an object of worker name → settings');
    out.workers = Object.fromEntries(
      Object.entries(workers).map(([name, value]) => [name, check(value, `workers.${name}`)]),
    );
  }
  return out;
}
