import { completedProblems, eventsAbout, executionOf, malformed, outcomesAbout, show } from './reports.ts';
import type { Observed } from './reports.ts';
import type { Sent } from './protocol.ts';

/*
 * One judge per scenario: what the contract (docs/asyncapi.yaml, "A worker's duties") requires of the reports to
 * the commands the scenario sent. Each returns the violations, named for a person fixing the worker; none is a pass.
 */

function nonceOf(sent: Sent): string {
  return (sent.command.input as { nonce: string }).nonce;
}

function first(observed: Observed): Sent {
  const sent = observed.sent[0];
  if (sent === undefined) throw new Error('a scenario judged before it sent anything');
  return sent;
}

/** One command: exactly one outcome, step.completed with the action's output. */
export function judgeExecute(observed: Observed): string[] {
  const sent = first(observed);
  const outcomes = outcomesAbout(observed, 'execute', sent.command.attempt);
  return [
    ...malformed(observed),
    ...exactlyOne(outcomes.length, sent),
    ...outcomes.flatMap((o) => completedProblems(o, nonceOf(sent))),
  ];
}

function exactlyOne(count: number, sent: Sent): string[] {
  if (count === 1) return [];
  if (count === 0) return [`no outcome report for key ${sent.command.idempotencyKey}`];
  return [`${count} outcome reports for key ${sent.command.idempotencyKey}, not one`];
}

/**
 * The same command delivered again after its outcome: the worker reports the stored outcome again without running
 * anything. Two executions show as two different `output.execution` ids, or two `step.started`.
 */
export function judgeDuplicate(observed: Observed): string[] {
  const sent = first(observed);
  const key = sent.command.idempotencyKey;
  const outcomes = outcomesAbout(observed, 'execute', sent.command.attempt);
  const violations = [...malformed(observed), ...twice(observed, key)];
  if (outcomes.length < observed.sent.length)
    violations.push(
      `${outcomes.length} outcome report(s) for ${observed.sent.length} deliveries of key ${key}: a key already done must report its stored outcome again`,
    );
  if (outcomes.length > observed.sent.length)
    violations.push(`${outcomes.length} outcome reports for ${observed.sent.length} deliveries of key ${key}`);
  violations.push(...differentOutcomes(outcomes.map((o) => o.type)));
  return violations;
}

/** Delivered twice while the first still runs: one execution; the second delivery reports nothing, or the same outcome. */
export function judgeDuplicateInFlight(observed: Observed): string[] {
  const sent = first(observed);
  const key = sent.command.idempotencyKey;
  const outcomes = outcomesAbout(observed, 'execute', sent.command.attempt);
  const violations = [...malformed(observed), ...twice(observed, key)];
  if (outcomes.length === 0) violations.push(`no outcome report for key ${key}`);
  if (outcomes.length > observed.sent.length)
    violations.push(`${outcomes.length} outcome reports for ${observed.sent.length} deliveries of key ${key}`);
  violations.push(...differentOutcomes(outcomes.map((o) => o.type)));
  violations.push(...outcomes.slice(0, 1).flatMap((o) => completedProblems(o, nonceOf(sent))));
  return violations;
}

/** Signs that one key ran more than once: distinct execution ids, or more than one step.started. */
function twice(observed: Observed, key: string): string[] {
  const sent = first(observed);
  const events = eventsAbout(observed, 'execute', sent.command.attempt).map((e) => e.event);
  const outcomes = events.filter((e) => e.type === 'step.completed' || e.type === 'step.failed');
  const executions = new Set(outcomes.map(executionOf).filter((e) => e !== undefined));
  const starts = events.filter((e) => e.type === 'step.started').length;
  const violations: string[] = [];
  if (executions.size > 1)
    violations.push(
      `executed twice (${outcomes.length} outcome reports for key ${key} with ${executions.size} different output.execution ids)`,
    );
  if (starts > 1) violations.push(`executed twice (${starts} step.started reports for key ${key})`);
  return violations;
}

function differentOutcomes(types: readonly string[]): string[] {
  const distinct = [...new Set(types)];
  return distinct.length > 1 ? [`the deliveries of one key were answered differently: ${distinct.join(' and ')}`] : [];
}

/**
 * Attempt 2, then attempt 1 (a late redelivery of an older attempt, its deadline still ahead). Each attempt has a
 * key of its own: attempt 1 is answered as attempt 1 with an execution of its own, and attempt 2 is not touched.
 */
export function judgeStaleAttempt(observed: Observed): string[] {
  const [newer, older] = observed.sent;
  if (newer === undefined || older === undefined) throw new Error('the stale-attempt scenario sends two attempts');
  const newerOutcomes = outcomesAbout(observed, 'execute', newer.command.attempt);
  const olderOutcomes = outcomesAbout(observed, 'execute', older.command.attempt);
  const violations = [
    ...malformed(observed),
    ...exactlyOne(newerOutcomes.length, newer),
    ...exactlyOne(olderOutcomes.length, older),
    ...olderOutcomes.slice(0, 1).flatMap((o) => completedProblems(o, nonceOf(older))),
  ];
  const newerExecution = newerOutcomes.map(executionOf).find((e) => e !== undefined);
  const olderExecution = olderOutcomes.map(executionOf).find((e) => e !== undefined);
  if (newerExecution !== undefined && newerExecution === olderExecution)
    violations.push(
      `answered attempt ${older.command.attempt} with attempt ${newer.command.attempt}'s outcome (execution ${show(newerExecution)}): dedupe by idempotencyKey, not by run and step`,
    );
  return violations;
}

/** A command whose deadline has passed: not started; step.failed, retryable, STEP.DEADLINE_EXCEEDED. */
export function judgePastDeadline(observed: Observed): string[] {
  const sent = first(observed);
  const events = eventsAbout(observed, 'execute', sent.command.attempt).map((e) => e.event);
  const outcomes = events.filter((e) => e.type === 'step.completed' || e.type === 'step.failed');
  const violations = [...malformed(observed), ...exactlyOne(outcomes.length, sent)];
  const started = events.filter((e) => e.type === 'step.started' || e.type === 'step.heartbeat');
  if (started.length > 0) violations.push(`sent ${started[0]?.type}: it started an attempt past its deadline`);
  for (const outcome of outcomes) {
    if (outcome.type === 'step.completed') {
      violations.push('ran a command past its deadline (step.completed; expected step.failed STEP.DEADLINE_EXCEEDED)');
      continue;
    }
    if (outcome.type !== 'step.failed') continue;
    if (outcome.error.code !== 'STEP.DEADLINE_EXCEEDED')
      violations.push(`failed with code ${show(outcome.error.code ?? 'STEP.FAILED')}, not "STEP.DEADLINE_EXCEEDED"`);
    if (outcome.error.retryable === false)
      violations.push('reported the deadline as retryable: false (it must be retryable: the orchestrator tries again)');
  }
  return violations;
}

/** A step.compensate: one outcome, reported with phase compensate (malformed() names a report in the wrong phase). */
export function judgeCompensate(observed: Observed): string[] {
  const sent = first(observed);
  const outcomes = outcomesAbout(observed, 'compensate', sent.command.attempt);
  return [
    ...malformed(observed),
    ...exactlyOne(outcomes.length, sent),
    ...outcomes.flatMap((o) => completedProblems(o, nonceOf(sent))),
  ];
}

/**
 * A step that runs `sleepMs` with `heartbeatIntervalMs` on its command: step.started, then heartbeats at about that
 * pace, then the outcome. A gap is measured where the kit reads the reports, so it allows twice the interval (the
 * orchestrator gives up after three).
 */
export function judgeHeartbeats(observed: Observed, sleepMs: number): string[] {
  const sent = first(observed);
  const interval = sent.command.heartbeatIntervalMs;
  if (interval === null) throw new Error('the heartbeat scenario sends a heartbeatIntervalMs');
  const events = eventsAbout(observed, 'execute', sent.command.attempt);
  const outcomes = events.filter((e) => e.event.type === 'step.completed' || e.event.type === 'step.failed');
  const violations = [
    ...malformed(observed),
    ...exactlyOne(outcomes.length, sent),
    ...outcomes.flatMap((o) => completedProblems(o.event, nonceOf(sent))),
  ];
  const start = events.find((e) => e.event.type === 'step.started');
  const end = outcomes[0];
  if (start === undefined) {
    violations.push(`no step.started for an attempt that ran ${sleepMs} ms (heartbeats are watched only after it)`);
    return violations;
  }
  if (end === undefined) return violations;
  const beats = events.filter((e) => e.event.type === 'step.heartbeat' && e.at >= start.at && e.at <= end.at);
  const expected = Math.floor(sleepMs / interval);
  if (beats.length < expected - 1)
    violations.push(
      `${beats.length} heartbeats in ${sleepMs} ms at heartbeatIntervalMs ${interval} (expected about ${expected})`,
    );
  if (beats.length > 2 * expected + 2)
    violations.push(
      `${beats.length} heartbeats in ${sleepMs} ms at heartbeatIntervalMs ${interval}: far more than asked`,
    );
  const times = [start.at, ...beats.map((b) => b.at), end.at];
  const gap = Math.max(...times.slice(1).map((t, i) => t - (times[i] ?? t)));
  if (gap > 2 * interval)
    violations.push(
      `silent for ${gap} ms while running (heartbeatIntervalMs ${interval}; the orchestrator fails the attempt after ${3 * interval})`,
    );
  return violations;
}
