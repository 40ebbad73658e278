/**
 * Drives one random run: the interleaving of worker reports, duplicates, stale reports, timer firings (due or
 * not) and operator actions a scenario describes, then a finisher that answers everything outstanding so the
 * run ends. It decides one command at a time and records, per invariant, every violation it sees.
 */
import { decide, DomainError, evolve, initialState, isStarted, isTerminalRun, stepAt } from '../index.ts';
import { assertNever } from './run-checks.ts';
import type { CompiledDefinition } from '@orchestron/definitions';
import type { Command, Phase, RunData, RunState, WorkflowEvent } from '../index.ts';
import { buildDefinition, runInput, T0 } from './random-workflows.ts';
import type { Action, Scenario } from './random-workflows.ts';
import {
  applies,
  compensationProblems,
  downstreamSets,
  endingProblems,
  holdProblems,
  joinSatisfied,
  missingDeadlines,
  rearmsItself,
  replayProblems,
} from './run-checks.ts';

export { scenario } from './random-workflows.ts';
export type { Scenario } from './random-workflows.ts';

export type Invariant = 'order' | 'attempts' | 'termination' | 'compensation' | 'replay' | 'idempotence' | 'crash';

export interface Options {
  /** Decide each command a second time on the state it produced (invariant `idempotence`). */
  readonly repeatEachCommand?: boolean;
  /** Once the run has ended, try every kind of command on it (invariant `termination`). */
  readonly probeAfterEnd?: boolean;
}

export interface Outcome {
  readonly definition: CompiledDefinition;
  readonly events: readonly WorkflowEvent[];
  readonly state: RunState;
  readonly violations: Readonly<Record<Invariant, string[]>>;
}

/** Drives one random run to its end and reports every invariant violation seen on the way. */
export function drive(sc: Scenario, options: Options = {}): Outcome {
  return new Driver(sc, options).run();
}

/** Worker reports, timers and the runtime's holds: they never throw, and when they do not apply they produce nothing. */
const isReport = (c: Command): boolean =>
  c.type.startsWith('Record') || c.type === 'FireTimer' || c.type === 'HoldStep' || c.type === 'ReleaseStep';

class Driver {
  private readonly sc: Scenario;
  private readonly options: Options;
  private readonly definition: CompiledDefinition;
  private readonly input: Record<string, unknown>;
  private readonly downstream: Map<string, Set<string>>;
  private state: RunState = initialState();
  private readonly events: WorkflowEvent[] = [];
  private readonly reports: Command[] = [];
  private readonly activated = new Set<string>();
  private readonly dispatched = new Set<string>();
  private readonly violations: Record<Invariant, string[]> = {
    order: [],
    attempts: [],
    termination: [],
    compensation: [],
    replay: [],
    idempotence: [],
    crash: [],
  };
  private now = T0;

  constructor(sc: Scenario, options: Options) {
    this.sc = sc;
    this.options = options;
    this.definition = buildDefinition(sc.spec);
    this.input = runInput(sc.spec);
    this.downstream = downstreamSets(this.definition);
  }

  run(): Outcome {
    this.send({
      type: 'StartRun',
      data: { runId: 'run-p', definition: this.definition, input: this.input, idempotencyKey: 'key-p' },
      metadata: this.meta(),
    });
    for (const a of this.sc.actions) {
      this.now += a.dt;
      const command = this.commandFor(a);
      if (command) this.send(command);
    }
    this.finish();
    this.checkEnd();
    return { definition: this.definition, events: this.events, state: this.state, violations: this.violations };
  }

  private get s(): RunData {
    if (!isStarted(this.state)) throw new Error('the run did not start');
    return this.state;
  }

  private meta(actor?: string) {
    return actor === undefined ? { now: this.now } : { now: this.now, actor };
  }

  // ---- choosing commands -------------------------------------------------------------------------------

  /** Attempts out at a worker, or (with `held`) the ones the runtime holds back. */
  private outstanding(held?: boolean): { stepId: string; attempt: number; phase: Phase }[] {
    const out: { stepId: string; attempt: number; phase: Phase }[] = [];
    const wanted = (h: unknown) => held === undefined || (h !== null) === held;
    for (const st of Object.values(this.s.steps))
      if (st.status === 'running' && wanted(st.held))
        out.push({ stepId: st.id, attempt: st.attempt, phase: 'execute' });
    for (const c of Object.values(this.s.compensations))
      if (c.status === 'running' && wanted(c.held))
        out.push({ stepId: c.stepId, attempt: c.attempt, phase: 'compensate' });
    return out;
  }

  private stepIds(filter: (id: string) => boolean = () => true): string[] {
    return this.definition.order.filter(filter);
  }

  private commandFor(a: Action): Command | null {
    const pick = <T>(items: readonly T[]): T | undefined =>
      items.length === 0 ? undefined : items[a.pick % items.length];
    const s = this.s;
    const anyStep = pick(this.definition.order) ?? 's0';
    switch (a.kind) {
      case 'complete':
      case 'fail':
      case 'start':
      case 'heartbeat': {
        const target = pick(this.outstanding());
        if (!target) return null;
        return this.report(a.kind, target.stepId, target.attempt, target.phase, a);
      }
      case 'duplicate': {
        const original = pick(this.reports);
        return original ? { ...original, metadata: this.meta() } : null;
      }
      case 'stale': {
        const retried = [
          ...Object.values(s.steps)
            .filter((st) => st.attempt >= 2)
            .map((st) => ({ stepId: st.id, attempt: st.attempt, phase: 'execute' as Phase })),
          ...Object.values(s.compensations)
            .filter((c) => c.attempt >= 2)
            .map((c) => ({ stepId: c.stepId, attempt: c.attempt, phase: 'compensate' as Phase })),
        ];
        const target = pick(retried);
        if (!target) return this.report(a.flag ? 'complete' : 'fail', anyStep, 1 + (a.pick % 3), 'execute', a);
        return this.report(
          a.flag ? 'complete' : 'fail',
          target.stepId,
          1 + (a.pick % (target.attempt - 1)),
          target.phase,
          a,
        );
      }
      case 'timer': {
        const timer = pick(Object.values(s.timers).sort((x, y) => x.id.localeCompare(y.id)));
        if (!timer) return null;
        if (a.flag) this.now = Math.max(this.now, timer.dueAt);
        return { type: 'FireTimer', data: { timerId: timer.id }, metadata: this.meta('system:timer') };
      }
      case 'governance': {
        const id = pick(this.stepIds((i) => s.steps[i]?.status === 'waiting_governance'));
        if (!id) return null;
        const outcome = (['allow', 'allow', 'deny', 'require_approval'] as const)[a.pick % 4] ?? 'allow';
        // Mostly about the input asked; sometimes about another (an answer to an older request), which must change nothing.
        const inputDigest =
          a.flag && a.pick % 3 === 0 ? 'an older request' : (stepAt(s, id, 'waiting_governance')?.askedDigest ?? '');
        return {
          type: 'RecordGovernanceDecision',
          data: { stepId: id, outcome, policyId: `policy-${a.pick % 5}`, reason: 'random', inputDigest },
          metadata: this.meta(),
        };
      }
      case 'hold': {
        // Mostly an attempt the runtime could not send; sometimes one that is held already, stale, or started.
        const target = pick(a.flag ? this.outstanding() : this.outstanding(false));
        if (!target) return null;
        const reason = a.pick % 2 === 0 ? 'breaker_open' : 'concurrency_limit';
        return {
          type: 'HoldStep',
          data: {
            ...target,
            attempt: a.pick % 11 === 0 ? target.attempt + 1 : target.attempt,
            reason,
            worker: `w${a.pick % 3}`,
          },
          metadata: this.meta('system:flow'),
        };
      }
      case 'release': {
        const target = pick(a.flag ? this.outstanding() : this.outstanding(true));
        if (!target) return null;
        return { type: 'ReleaseStep', data: target, metadata: this.meta('system:flow') };
      }
      case 'approve':
      case 'reject': {
        const waiting = a.kind === 'reject' ? ['waiting_approval', 'waiting_governance'] : ['waiting_approval'];
        const id = a.flag ? anyStep : pick(this.stepIds((i) => waiting.includes(s.steps[i]?.status ?? '')));
        if (!id) return null;
        return {
          type: a.kind === 'approve' ? 'Approve' : 'Reject',
          data: { stepId: id, reason: 'random' },
          metadata: this.meta('ops:random'),
        };
      }
      case 'retry': {
        const retryable = (i: string) =>
          s.steps[i]?.status === 'failed' ||
          s.compensations[i]?.status === 'failed' ||
          (s.steps[i]?.status === 'waiting_governance' && s.steps[i]?.escalated === true);
        const id = a.flag ? anyStep : pick(this.stepIds(retryable));
        if (!id) return null;
        return {
          type: 'RetryStep',
          data: { stepId: id, ...(a.pick % 2 === 0 ? { input: { edited: a.pick } } : {}) },
          metadata: this.meta('ops:random'),
        };
      }
      case 'skip': {
        const id = a.flag
          ? anyStep
          : pick(this.stepIds((i) => s.steps[i]?.status === 'failed' || s.compensations[i]?.status === 'failed'));
        if (!id) return null;
        return {
          type: 'SkipStep',
          data: { stepId: id, output: a.pick % 7 === 0 ? undefined : { skipped: a.pick } },
          metadata: this.meta('ops:random'),
        };
      }
      case 'pause':
        return { type: 'Pause', data: {}, metadata: this.meta('ops:random') };
      case 'resume':
        return { type: 'Resume', data: {}, metadata: this.meta('ops:random') };
      case 'cancel':
        return { type: 'Cancel', data: {}, metadata: this.meta('ops:random') };
      case 'compensate':
        return { type: 'Compensate', data: {}, metadata: this.meta('ops:random') };
      default:
        return assertNever(a.kind);
    }
  }

  private report(
    kind: 'complete' | 'fail' | 'start' | 'heartbeat',
    stepId: string,
    attempt: number,
    phase: Phase,
    a: Action,
  ): Command {
    const data = { stepId, attempt, phase };
    switch (kind) {
      case 'complete':
        return { type: 'RecordStepCompleted', data: { ...data, output: { v: a.pick } }, metadata: this.meta() };
      case 'fail': {
        const code = a.flag ? 'E.TRANSIENT' : a.pick % 2 === 0 ? 'E.FATAL' : 'E.OTHER';
        return {
          type: 'RecordStepFailed',
          data: { ...data, error: { code, message: 'random failure', retryable: a.pick % 3 !== 0 } },
          metadata: this.meta(),
        };
      }
      case 'start':
        return { type: 'RecordStepStarted', data, metadata: this.meta() };
      case 'heartbeat':
        return { type: 'RecordStepHeartbeat', data, metadata: this.meta() };
      default:
        return assertNever(kind);
    }
  }

  // ---- the finisher -----------------------------------------------------------------------------------

  /** Answers everything outstanding, round after round, until the run ends or nothing is left to answer. */
  private finish(): void {
    for (let round = 0; round < 200 && !isTerminalRun(this.state.status); round++) {
      if (!this.finishRound(round)) break;
    }
  }

  private finishRound(round: number): boolean {
    const s = this.s;
    const before = this.events.length;
    this.now += 10;
    if (s.status === 'paused') this.send({ type: 'Resume', data: {}, metadata: this.meta('finisher') });
    // The runtime releases what it held once its worker can take it.
    for (const o of this.outstanding(true))
      this.send({ type: 'ReleaseStep', data: o, metadata: this.meta('system:flow') });
    for (const o of this.outstanding())
      this.send({ type: 'RecordStepCompleted', data: { ...o, output: { finished: true } }, metadata: this.meta() });
    for (const id of this.stepIds((i) => this.s.steps[i]?.status === 'waiting_governance')) {
      this.send({
        type: 'RecordGovernanceDecision',
        data: {
          stepId: id,
          outcome: 'allow',
          policyId: null,
          reason: 'finisher',
          inputDigest: stepAt(this.s, id, 'waiting_governance')?.askedDigest ?? '',
        },
        metadata: this.meta(),
      });
    }
    for (const id of this.stepIds((i) => this.s.steps[i]?.status === 'waiting_approval')) {
      this.send({ type: 'Approve', data: { stepId: id }, metadata: this.meta('finisher') });
    }
    if (this.events.length > before) return true;
    const timer = Object.values(this.s.timers).sort((x, y) => x.dueAt - y.dueAt || x.id.localeCompare(y.id))[0];
    if (timer) {
      this.now = Math.max(this.now, timer.dueAt);
      this.send({ type: 'FireTimer', data: { timerId: timer.id }, metadata: this.meta('system:timer') });
      return true;
    }
    if (this.s.status === 'needs_operator' && this.sc.operatorFinishes) return this.actAsOperator(round);
    return this.events.length > before;
  }

  /** Retries (or, every other round, skips) whatever the run is waiting on; there is always something to act on. */
  private actAsOperator(round: number): boolean {
    const s = this.s;
    const before = this.events.length;
    const failed = [
      ...this.stepIds((i) => s.phase === 'compensate' && s.compensations[i]?.status === 'failed'),
      ...this.stepIds((i) => s.phase === 'execute' && s.steps[i]?.status === 'failed'),
    ];
    for (const id of failed) {
      const retry: Command = { type: 'RetryStep', data: { stepId: id }, metadata: this.meta('finisher') };
      const skip: Command = {
        type: 'SkipStep',
        data: { stepId: id, output: { skipped: true } },
        metadata: this.meta('finisher'),
      };
      for (const command of round % 2 === 0 ? [retry, skip] : [skip, retry]) {
        this.send(command);
        if (this.events.length > before) return true;
      }
    }
    const attention = s.attention?.stepId;
    if (attention && s.steps[attention]?.status === 'waiting_approval')
      this.send({ type: 'Approve', data: { stepId: attention }, metadata: this.meta('finisher') });
    if (attention && s.steps[attention]?.status === 'waiting_governance')
      this.send({ type: 'RetryStep', data: { stepId: attention }, metadata: this.meta('finisher') });
    if (this.events.length > before) return true;
    this.violate(
      'termination',
      `the run waits for an operator (${s.attention?.code} on ${s.attention?.stepId}), but no retry, skip or approval moves it`,
    );
    return false;
  }

  // ---- deciding and checking --------------------------------------------------------------------------

  private violate(invariant: Invariant, message: string): void {
    if (this.violations[invariant].length < 5)
      this.violations[invariant].push(`${message} [after ${this.events.length} events]`);
  }

  private send(command: Command): void {
    const before = this.state;
    let produced: WorkflowEvent[];
    try {
      produced = decide(command, before).events;
    } catch (error) {
      if (!(error instanceof DomainError)) this.violate('crash', `${command.type} threw ${String(error)}`);
      else if (isReport(command)) this.violate('crash', `${command.type} is a report, but threw ${error.code}`);
      return;
    }
    if (isReport(command)) this.reports.push(command);
    if (produced.length > 0 && isStarted(before) && isTerminalRun(before.status)) {
      this.violate(
        'termination',
        `${command.type} produced ${produced.map((e) => e.type).join(',')} after the run ended ${before.status}`,
      );
    }
    if (produced.length > 0 && isStarted(before) && !applies(command, before)) {
      this.violate(
        'attempts',
        `${command.type} ${JSON.stringify(command.data)} does not apply, yet produced ${produced.map((e) => e.type).join(',')}`,
      );
    }
    let s = before;
    for (const event of produced) {
      if (isStarted(s)) this.checkEvent(s, event);
      s = evolve(s, event);
    }
    this.state = s;
    this.events.push(...produced);
    if (produced.length > 0 && isStarted(s)) this.checkDeadlines(s);
    if (isStarted(s)) for (const problem of holdProblems(s)) this.violate('attempts', problem);
    if (this.options.repeatEachCommand) this.repeat(command);
  }

  private checkDeadlines(s: RunData): void {
    for (const problem of missingDeadlines(s)) this.violate('termination', problem);
  }

  private repeat(command: Command): void {
    try {
      const again = decide(command, this.state).events;
      if (again.length > 0 && !rearmsItself(command, again, this.state)) {
        this.violate(
          'idempotence',
          `${command.type} ${JSON.stringify(command.data)} applied twice produced ${again.map((e) => e.type).join(',')} the second time`,
        );
      }
    } catch (error) {
      if (!(error instanceof DomainError)) this.violate('crash', `${command.type} repeated threw ${String(error)}`);
    }
  }

  private checkEvent(s: RunData, event: WorkflowEvent): void {
    if (isTerminalRun(s.status)) this.violate('termination', `${event.type} after ${s.status}`);
    switch (event.type) {
      case 'StepDispatched': {
        const { stepId: id, attempt, phase } = event.data;
        const key = `${id}/${attempt}/${phase}`;
        if (this.dispatched.has(key)) this.violate('attempts', `attempt ${key} dispatched twice`);
        this.dispatched.add(key);
        if (phase === 'execute') this.checkExecuteDispatch(s, id);
        else this.checkCompensationDispatch(s, id);
        return;
      }
      case 'GovernanceCheckRequested':
        if (s.steps[event.data.stepId]?.status === 'pending') this.checkActivation(s, event.data.stepId, event.type);
        return;
      case 'ApprovalRequested':
        if (event.data.cause === 'approval_step') this.checkActivation(s, event.data.stepId, event.type);
        return;
      default:
        return;
    }
  }

  private checkExecuteDispatch(s: RunData, id: string): void {
    const st = s.steps[id];
    if (s.phase !== 'execute' || s.status !== 'running')
      this.violate('order', `${id} dispatched while the run is ${s.status}/${s.phase}`);
    // A step leaving `pending`, or dispatched without ever having left it (an operator retry), must satisfy
    // its join and its condition now; a retry of an attempt that was dispatched on a satisfied join need not.
    if ((st?.status === 'pending' && st.governance === null) || !this.activated.has(id))
      this.checkActivation(s, id, `StepDispatched from ${st?.status}`);
  }

  /** The join and `when` of a step hold at the moment it leaves `pending` (guarantee 1). */
  private checkActivation(s: RunData, id: string, what: string): void {
    const def = this.definition.steps[id];
    if (!def) return;
    if (!joinSatisfied(def, s)) {
      const needs = def.needs
        .map((n) => {
          const need = s.steps[n];
          return `${n}:${need?.status}${need?.status === 'skipped' ? `(${need.skipKind})` : ''}`;
        })
        .join(' ');
      this.violate(
        'order',
        `${what} for ${id} although ${def.join.kind}${def.join.kind === 'quorum' ? `(${def.join.n})` : ''} over [${needs}] does not hold`,
      );
    }
    const flag = this.sc.spec.steps[Number(id.slice(1))]?.when;
    if (flag !== null && flag !== undefined && this.input[`f${flag}`] !== true)
      this.violate('order', `${what} for ${id} although its when is false`);
    this.activated.add(id);
  }

  /** Reverse dependency order: no downstream step that is (or may yet be) completed still needs undoing. */
  private checkCompensationDispatch(s: RunData, id: string): void {
    if (s.phase !== 'compensate')
      this.violate(
        'compensation',
        `compensation of ${id} dispatched while the run is ${s.phase === 'execute' ? 'executing' : s.phase}`,
      );
    if (s.steps[id]?.status !== 'completed' || !this.definition.steps[id]?.compensate)
      this.violate(
        'compensation',
        `compensation of ${id}, which is ${s.steps[id]?.status}${this.definition.steps[id]?.compensate ? '' : ' and declares none'}`,
      );
    for (const down of this.downstream.get(id) ?? []) {
      if (!this.definition.steps[down]?.compensate) continue;
      const status = s.steps[down]?.status;
      const undone = s.compensations[down]?.status;
      if (status === 'running')
        this.violate('compensation', `compensation of ${id} dispatched while downstream ${down} may still complete`);
      if (status === 'completed' && undone !== 'completed' && undone !== 'skipped')
        this.violate(
          'compensation',
          `compensation of ${id} dispatched before downstream ${down} was undone (${undone ?? 'not started'})`,
        );
    }
  }

  private checkEnd(): void {
    for (const problem of endingProblems(this.events, this.state)) this.violate('termination', problem);
    for (const problem of compensationProblems(this.events, this.state, this.definition))
      this.violate('compensation', problem);
    for (const problem of replayProblems(this.events, this.state)) this.violate('replay', problem);
    if (this.options.probeAfterEnd && isTerminalRun(this.state.status)) this.probe();
  }

  /** Every kind of command, against an ended run: none may produce an event. */
  private probe(): void {
    const s = this.s;
    const ids = this.definition.order.slice(0, 4);
    const m = this.meta('probe');
    const commands: Command[] = [
      {
        type: 'StartRun',
        data: { runId: 'run-p', definition: this.definition, input: this.input, idempotencyKey: 'key-p' },
        metadata: m,
      },
      { type: 'Pause', data: {}, metadata: m },
      { type: 'Resume', data: {}, metadata: m },
      { type: 'Cancel', data: {}, metadata: m },
      { type: 'Compensate', data: {}, metadata: m },
      ...Object.keys(s.timers).map((timerId): Command => ({ type: 'FireTimer', data: { timerId }, metadata: m })),
    ];
    for (const id of ids) {
      const attempt = s.steps[id]?.attempt ?? 0;
      for (const phase of ['execute', 'compensate'] as const) {
        for (const n of [attempt, attempt + 1]) {
          commands.push(
            { type: 'RecordStepStarted', data: { stepId: id, attempt: n, phase }, metadata: m },
            { type: 'RecordStepCompleted', data: { stepId: id, attempt: n, phase, output: null }, metadata: m },
            {
              type: 'RecordStepFailed',
              data: { stepId: id, attempt: n, phase, error: { code: 'E', message: 'late', retryable: true } },
              metadata: m,
            },
          );
        }
      }
      commands.push(
        {
          type: 'RecordGovernanceDecision',
          data: {
            stepId: id,
            outcome: 'allow',
            policyId: null,
            reason: 'late',
            inputDigest: stepAt(s, id, 'waiting_governance')?.askedDigest ?? 'none',
          },
          metadata: m,
        },
        { type: 'Approve', data: { stepId: id }, metadata: m },
        { type: 'Reject', data: { stepId: id }, metadata: m },
        { type: 'RetryStep', data: { stepId: id }, metadata: m },
        { type: 'SkipStep', data: { stepId: id, output: null }, metadata: m },
      );
    }
    for (const command of commands) this.send(command);
  }
}
