import { describe, expect, it } from '@jest/globals';
import { checkCommand, dispatchTraceparent } from './protocol.ts';
import type { CommandSpec, Report, Sent } from './protocol.ts';
import type { Observed } from './reports.ts';
import {
  judgeCompensate,
  judgeDuplicate,
  judgeDuplicateInFlight,
  judgeExecute,
  judgeHeartbeats,
  judgePastDeadline,
  judgeStaleAttempt,
} from './verdicts.ts';

const RUN = 'worker-check-abcd-x';
const PARTITION = 2;

function sent(spec: Partial<CommandSpec> = {}): Sent {
  const command = checkCommand({
    runId: RUN,
    worker: 'w',
    attempt: 1,
    phase: 'execute',
    deadline: 10_000,
    heartbeatIntervalMs: null,
    sleepMs: 0,
    nonce: 'n1',
    ...spec,
  });
  return { command, traceparent: dispatchTraceparent(command.runId, command.idempotencyKey) };
}

/** A report as a conforming worker sends it about `to`, changed by `value` and `overrides`. */
function report(to: Sent, value: Record<string, unknown>, at = 0, overrides: Partial<Report> = {}): Report {
  const { runId, stepId, attempt, type } = to.command;
  return {
    key: runId,
    partition: PARTITION,
    headers: { traceparent: to.traceparent },
    value: { runId, stepId, attempt, phase: type === 'step.compensate' ? 'compensate' : 'execute', ...value },
    at,
    ...overrides,
  };
}

const completed = (to: Sent, execution = 'e1', at = 0): Report =>
  report(to, { type: 'step.completed', output: { nonce: 'n1', execution } }, at);

const observed = (sentList: Sent[], reports: Report[]): Observed => ({ sent: sentList, reports, partition: PARTITION });

describe('judgeExecute', () => {
  it('passes one well-formed step.completed with the nonce and an execution id', () => {
    const s = sent();
    expect(judgeExecute(observed([s], [completed(s)]))).toEqual([]);
  });

  it('names a missing outcome and a second one', () => {
    const s = sent();
    expect(judgeExecute(observed([s], []))).toEqual([`no outcome report for key ${RUN}/check/1`]);
    expect(judgeExecute(observed([s], [completed(s), completed(s, 'e2')]))).toContain(
      `2 outcome reports for key ${RUN}/check/1, not one`,
    );
  });

  it('points a worker without the action at the handler it needs', () => {
    const s = sent();
    const failed = report(s, { type: 'step.failed', error: { code: 'WORKER.NO_HANDLER', message: 'no handler' } });
    expect(judgeExecute(observed([s], [failed]))).toEqual([
      'reported step.failed WORKER.NO_HANDLER: "no handler" (give the worker a handler for the action "worker-check", see --help)',
    ]);
  });

  it('names a wrong nonce and a missing execution id', () => {
    const s = sent();
    const wrong = report(s, { type: 'step.completed', output: { nonce: 'other' } });
    expect(judgeExecute(observed([s], [wrong]))).toEqual([
      `output.nonce is "other", not the command's "n1" (the action echoes it)`,
      'output.execution is undefined, not a non-empty string (the action returns one)',
    ]);
  });

  it('names the key, partition, trace and step of a report that gets them wrong', () => {
    const s = sent();
    const bad = report(s, { type: 'step.completed', output: { nonce: 'n1', execution: 'e' } }, 0, {
      key: 'other',
      partition: 0,
      headers: {},
    });
    expect(judgeExecute(observed([s], [bad]))).toEqual([
      'report 1 is keyed "other", not by its run id',
      'report 1 is on partition 0, not 2 (murmur2 of the run id, see "Keys and partitioning")',
      `report 1 has no traceparent header (echo the command's, see "Headers")`,
    ]);
    const otherTrace = { ...completed(s), headers: { traceparent: dispatchTraceparent('another-run', 'k') } };
    expect(judgeExecute(observed([s], [otherTrace]))).toEqual([
      `report 1 has a traceparent of another trace than its command's (the run's trace, see "Headers")`,
    ]);
    const garbageTrace = { ...completed(s), headers: { traceparent: 'x'.repeat(500) } };
    expect(judgeExecute(observed([s], [garbageTrace]))[0]).toMatch(
      /^report 1 has a traceparent that is not W3C Trace Context: .{1,80}$/,
    );
  });

  it('names a report that is not a StepEvent, whatever it is, in one short line', () => {
    const s = sent();
    const hostile: unknown[] = [
      null,
      'step.completed',
      [],
      { ...(completed(s).value as object), attempt: '1' },
      { ...(completed(s).value as object), type: 'step.done' },
      JSON.parse('{"__proto__":{"type":"step.completed"},"runId":"x"}'),
      { type: 'step.failed', runId: RUN, stepId: 'check', attempt: 1, phase: 'execute' },
      { deep: JSON.parse('['.repeat(200) + ']'.repeat(200)), pad: 'x'.repeat(10_000) },
    ];
    for (const value of hostile) {
      const violations = judgeExecute(observed([s], [{ ...completed(s), value }]));
      expect(violations[0]).toMatch(/^report 1 is not a valid StepEvent \(.+\): /);
      expect(violations[0]?.length).toBeLessThan(400);
      expect(violations).toContain(`no outcome report for key ${RUN}/check/1`);
    }
  });

  it('names a report about an attempt or phase that was never sent', () => {
    const s = sent();
    const stray = report(s, { type: 'step.heartbeat', attempt: 7 });
    expect(judgeExecute(observed([s], [stray, completed(s)]))).toEqual([
      'report 1 is about execute attempt 7, which was never sent',
    ]);
  });
});

describe('judgeDuplicate', () => {
  it('passes the stored outcome reported again (the same execution id)', () => {
    const s = sent();
    expect(judgeDuplicate(observed([s, s], [completed(s, 'e1'), completed(s, 'e1')]))).toEqual([]);
  });

  it('says "executed twice" when the two outcomes carry different executions, or two step.started came', () => {
    const s = sent();
    expect(judgeDuplicate(observed([s, s], [completed(s, 'e1'), completed(s, 'e2')]))).toEqual([
      `executed twice (2 outcome reports for key ${RUN}/check/1 with 2 different output.execution ids)`,
    ]);
    const started = report(s, { type: 'step.started' });
    expect(judgeDuplicate(observed([s, s], [started, completed(s), started, completed(s)]))).toEqual([
      `executed twice (2 step.started reports for key ${RUN}/check/1)`,
    ]);
  });

  it('requires the stored outcome to be reported again, and the same outcome', () => {
    const s = sent();
    expect(judgeDuplicate(observed([s, s], [completed(s)]))).toEqual([
      `1 outcome report(s) for 2 deliveries of key ${RUN}/check/1: a key already done must report its stored outcome again`,
    ]);
    const failed = report(s, { type: 'step.failed', error: { message: 'boom' } });
    expect(judgeDuplicate(observed([s, s], [completed(s), failed]))).toEqual([
      'the deliveries of one key were answered differently: step.completed and step.failed',
    ]);
  });
});

describe('judgeDuplicateInFlight', () => {
  it('passes one outcome, or the same outcome twice', () => {
    const s = sent();
    expect(judgeDuplicateInFlight(observed([s, s], [completed(s)]))).toEqual([]);
    expect(judgeDuplicateInFlight(observed([s, s], [completed(s), completed(s)]))).toEqual([]);
  });

  it('says "executed twice" for two executions', () => {
    const s = sent();
    expect(judgeDuplicateInFlight(observed([s, s], [completed(s, 'a'), completed(s, 'b')]))[0]).toMatch(
      /^executed twice/,
    );
  });
});

describe('judgeStaleAttempt', () => {
  it('passes each attempt answered under its own key', () => {
    const [two, one] = [sent({ attempt: 2 }), sent({ attempt: 1 })];
    expect(judgeStaleAttempt(observed([two, one], [completed(two, 'e2'), completed(one, 'e1')]))).toEqual([]);
  });

  it("names attempt 1 answered with attempt 2's outcome, and attempt 1 left unanswered", () => {
    const [two, one] = [sent({ attempt: 2 }), sent({ attempt: 1 })];
    expect(judgeStaleAttempt(observed([two, one], [completed(two, 'e2'), completed(one, 'e2')]))).toEqual([
      `answered attempt 1 with attempt 2's outcome (execution "e2"): dedupe by idempotencyKey, not by run and step`,
    ]);
    expect(judgeStaleAttempt(observed([two, one], [completed(two, 'e2'), completed(two, 'e2')]))).toEqual([
      `2 outcome reports for key ${RUN}/check/2, not one`,
      `no outcome report for key ${RUN}/check/1`,
    ]);
  });
});

describe('judgePastDeadline', () => {
  const expired = () => sent({ deadline: 1 });

  it('passes a retryable STEP.DEADLINE_EXCEEDED with nothing started', () => {
    const s = expired();
    const failed = report(s, { type: 'step.failed', error: { code: 'STEP.DEADLINE_EXCEEDED', message: 'late' } });
    expect(judgePastDeadline(observed([s], [failed]))).toEqual([]);
  });

  it('names a run past the deadline, the wrong code and a terminal deadline', () => {
    const s = expired();
    const started = report(s, { type: 'step.started' });
    expect(judgePastDeadline(observed([s], [started, completed(s)]))).toEqual([
      'sent step.started: it started an attempt past its deadline',
      'ran a command past its deadline (step.completed; expected step.failed STEP.DEADLINE_EXCEEDED)',
    ]);
    const wrong = report(s, { type: 'step.failed', error: { code: 'X', message: 'm', retryable: false } });
    expect(judgePastDeadline(observed([s], [wrong]))).toEqual([
      'failed with code "X", not "STEP.DEADLINE_EXCEEDED"',
      'reported the deadline as retryable: false (it must be retryable: the orchestrator tries again)',
    ]);
  });
});

describe('judgeCompensate', () => {
  it('passes a compensation reported with phase compensate, and names one reported as execute', () => {
    const s = sent({ phase: 'compensate' });
    expect(s.command.idempotencyKey).toBe(`${RUN}/check/compensate/1`);
    expect(judgeCompensate(observed([s], [completed(s)]))).toEqual([]);
    const asExecute = report(s, { type: 'step.completed', phase: 'execute', output: { nonce: 'n1', execution: 'e' } });
    expect(judgeCompensate(observed([s], [asExecute]))).toEqual([
      'report 1 is about execute attempt 1, which was never sent',
      `no outcome report for key ${RUN}/check/compensate/1`,
    ]);
  });
});

describe('judgeHeartbeats', () => {
  const slow = () => sent({ heartbeatIntervalMs: 1_000, sleepMs: 4_000 });
  const at = (s: Sent, type: string, ms: number) => report(s, { type }, ms);

  it('passes step.started, a heartbeat about every interval, then the outcome', () => {
    const s = slow();
    const reports = [at(s, 'step.started', 100), ...[1, 2, 3].map((i) => at(s, 'step.heartbeat', i * 1_000 + 50))];
    expect(judgeHeartbeats(observed([s], [...reports, completed(s, 'e', 4_020)]), 4_000)).toEqual([]);
  });

  it('names silence, too few heartbeats, and a missing step.started', () => {
    const s = slow();
    const silent = [at(s, 'step.started', 100), completed(s, 'e', 4_050)];
    expect(judgeHeartbeats(observed([s], silent), 4_000)).toEqual([
      '0 heartbeats in 4000 ms at heartbeatIntervalMs 1000 (expected about 4)',
      'silent for 3950 ms while running (heartbeatIntervalMs 1000; the orchestrator fails the attempt after 3000)',
    ]);
    expect(judgeHeartbeats(observed([s], [completed(s, 'e', 4_000)]), 4_000)).toEqual([
      'no step.started for an attempt that ran 4000 ms (heartbeats are watched only after it)',
    ]);
  });

  it('names a flood of heartbeats', () => {
    const s = slow();
    const flood = Array.from({ length: 40 }, (_, i) => at(s, 'step.heartbeat', 100 + i * 100));
    expect(
      judgeHeartbeats(observed([s], [at(s, 'step.started', 50), ...flood, completed(s, 'e', 4_100)]), 4_000),
    ).toEqual(['40 heartbeats in 4000 ms at heartbeatIntervalMs 1000: far more than asked']);
  });
});
