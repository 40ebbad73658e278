/**
 * Drives one random run: the interleaving of worker reports, duplicates, stale reports, timer firings (due or
 * not) and operator actions a scenario describes, then a finisher that answers everything outstanding so the
 * run ends. It decides one command at a time and records, per invariant, every violation it sees.
 */
import {
  childRunIdOf,
  decide,
  DomainError,
  evolve,
  initialState,
  inputDigest,
  isGoverned,
  isStarted,
  isTerminalRun,
  stepAt,
} from '../index.ts';
import type { CompiledDefinition } from '@orchestron/definitions';
import type {
  Command,
  CommandMetadata,
  Decision,
  DecideOptions,
  DispatchRuling,
  RunData,
  RunState,
  StandingLookup,
  WorkflowEvent,
} from '../index.ts';
import { childOutcomeData, commandFor, eventFor, probeCommands } from './random-commands.ts';
import type { Attempt, Chooser } from './random-commands.ts';
import { buildDefinition, runInput, T0 } from './random-workflows.ts';
import type { Scenario } from './random-workflows.ts';
import {
  applies,
  compensationProblems,
  downstreamSets,
  deepEqual,
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
  /** Decide with standing governance rulings held on some steps (ADR 41): those are allowed without a request. */
  readonly standing?: boolean;
}

/** A holder of standing rulings on the steps whose id has an even length, the same answer every time. */
const STANDING: StandingLookup = (_s, stepId) =>
  stepId.length % 2 === 0 ? { policyId: 'standing', reason: 'holds for any run', decidedBy: 'g-test' } : null;

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

class Driver implements Chooser {
  private readonly sc: Scenario;
  private readonly options: Options;
  readonly definition: CompiledDefinition;
  private readonly input: Record<string, unknown>;
  private readonly downstream: Map<string, Set<string>>;
  private state: RunState = initialState();
  private readonly events: WorkflowEvent[] = [];
  readonly reports: Command[] = [];
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
  now = T0;

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
      const command = commandFor(a, this);
      if (command) this.send(command);
    }
    this.finish();
    this.checkEnd();
    return { definition: this.definition, events: this.events, state: this.state, violations: this.violations };
  }

  get s(): RunData {
    if (!isStarted(this.state)) throw new Error('the run did not start');
    return this.state;
  }

  meta(actor?: string): CommandMetadata {
    return actor === undefined ? { now: this.now } : { now: this.now, actor };
  }

  // ---- choosing commands (random-commands.ts) ----------------------------------------------------------

  outstanding(held?: boolean): Attempt[] {
    const out: Attempt[] = [];
    const wanted = (h: unknown) => held === undefined || (h !== null) === held;
    for (const st of Object.values(this.s.steps))
      if (st.status === 'running' && wanted(st.held))
        out.push({ stepId: st.id, attempt: st.attempt, phase: 'execute' });
    for (const c of Object.values(this.s.compensations))
      if (c.status === 'running' && wanted(c.held) && this.definition.steps[c.stepId]?.type === 'task')
        out.push({ stepId: c.stepId, attempt: c.attempt, phase: 'compensate' });
    return out;
  }

  stepIds(filter: (id: string) => boolean = () => true): string[] {
    return this.definition.order.filter(filter);
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
    for (const id of this.stepIds((i) => this.s.steps[i]?.status === 'waiting_event')) {
      const key = stepAt(this.s, id, 'waiting_event')?.key ?? '';
      this.send(eventFor(this, key, `finisher-${id}`, { finished: true }));
    }
    // The runtime reports each child's end: a child that completes, and one compensated for its parent.
    for (const id of this.stepIds((i) => this.s.steps[i]?.status === 'waiting_child')) {
      const childRunId = stepAt(this.s, id, 'waiting_child')?.childRunId ?? '';
      this.send({
        type: 'RecordChildOutcome',
        data: childOutcomeData(id, childRunId, 'completed', 0),
        metadata: this.meta(),
      });
    }
    for (const id of this.stepIds(
      (i) => this.definition.steps[i]?.type === 'workflow' && this.s.compensations[i]?.status === 'running',
    )) {
      const childRunId = childRunIdOf(this.s.runId, id, this.s.steps[id]?.attempt ?? 0);
      this.send({
        type: 'RecordChildOutcome',
        data: childOutcomeData(id, childRunId, 'compensated', 0),
        metadata: this.meta(),
      });
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

  private decideOptions(): DecideOptions {
    return this.options.standing === true ? { standing: STANDING } : {};
  }

  private violate(invariant: Invariant, message: string): void {
    if (this.violations[invariant].length < 5)
      this.violations[invariant].push(`${message} [after ${this.events.length} events]`);
  }

  private send(command: Command): void {
    const before = this.state;
    let produced: WorkflowEvent[];
    let decided: RunState;
    try {
      const decision = decide(command, before, this.decideOptions());
      produced = decision.events;
      decided = decision.state;
      this.checkUnapplied(command, decision);
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
    if (!deepEqual(s, decided)) this.violate('replay', `${command.type}: the decision's state is not its fold`);
    this.state = s;
    this.events.push(...produced);
    if (produced.length > 0 && isStarted(s)) this.checkDeadlines(s);
    if (isStarted(s)) for (const problem of holdProblems(s)) this.violate('attempts', problem);
    if (this.options.repeatEachCommand) this.repeat(command);
  }

  /** Nothing is decided exactly when the decision says why; a report about an attempt that went out is never rejected. */
  private checkUnapplied(command: Command, decision: Decision): void {
    if ((decision.events.length === 0) !== (decision.unapplied !== null))
      this.violate(
        'attempts',
        `${command.type} decided ${decision.events.length} events, unapplied ${JSON.stringify(decision.unapplied)}`,
      );
    if (decision.unapplied?.type !== 'Reject' || !('attempt' in command.data)) return;
    const { stepId, attempt, phase } = command.data as { stepId: string; attempt: number; phase: string };
    if (this.dispatched.has(`${stepId}/${attempt}/${phase}`))
      this.violate(
        'attempts',
        `${command.type} about dispatched attempt ${stepId}/${attempt}/${phase} was rejected: ${decision.unapplied.data.message}`,
      );
  }

  private checkDeadlines(s: RunData): void {
    for (const problem of missingDeadlines(s)) this.violate('termination', problem);
  }

  private repeat(command: Command): void {
    try {
      const again = decide(command, this.state, this.decideOptions()).events;
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
        if (phase === 'execute') this.checkExecuteDispatch(s, id, event.data.ruling, event.data.input);
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

  private checkExecuteDispatch(s: RunData, id: string, ruling: DispatchRuling | undefined, input: unknown): void {
    const st = s.steps[id];
    if (s.phase !== 'execute' || s.status !== 'running')
      this.violate('order', `${id} dispatched while the run is ${s.status}/${s.phase}`);
    // A step leaving `pending`, or dispatched without ever having left it (an operator retry), must satisfy
    // its join and its condition now; a retry of an attempt that was dispatched on a satisfied join need not.
    if ((st?.status === 'pending' && st.governance === null) || !this.activated.has(id))
      this.checkActivation(s, id, `StepDispatched from ${st?.status}`);
    // A governed step leaves pending for its worker only with a recorded allow (guarantee 6): one folded before, or a
    // standing allow on the dispatch itself (ADR 43) for exactly the input it sends.
    if (ruling !== undefined && (st?.status !== 'pending' || ruling.inputDigest !== inputDigest(input)))
      this.violate('order', `${id} dispatched from ${st?.status} with a ruling for another input or state`);
    const ruled = ruling !== undefined;
    const allowed = st?.status === 'pending' && (ruled || ['allow', 'approved'].includes(st.governance?.outcome ?? ''));
    if (st?.status === 'pending' && isGoverned(s, id) && !allowed)
      this.violate('order', `governed step ${id} dispatched without a recorded allow`);
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
    for (const command of probeCommands(this.s, this.definition, this.input, this.meta('probe'))) this.send(command);
  }
}
