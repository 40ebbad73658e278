import { malformed } from './reports.ts';
import {
  judgeCompensate,
  judgeDuplicate,
  judgeDuplicateInFlight,
  judgeExecute,
  judgeHeartbeats,
  judgePastDeadline,
  judgeStaleAttempt,
} from './verdicts.ts';
import type { CheckRun, Probe } from './probe.ts';
import type { Sent } from './protocol.ts';

export interface Scenario {
  readonly name: string;
  /** One line for --help: what is sent, what the contract expects back. */
  readonly about: string;
  run(probe: Probe): Promise<string[]>;
}

/** How long the slow step of the heartbeat scenario works, and the pace it asks for. */
export const HEARTBEAT_SLEEP_MS = 4_000;
export const HEARTBEAT_INTERVAL_MS = 1_000;
/** How long the step of the in-flight duplicate works: long enough for the second delivery to arrive meanwhile. */
const IN_FLIGHT_SLEEP_MS = 1_500;

/** When the reports a scenario waits for do not come, that is the violation, with what did come. */
async function awaited(probe: Probe, run: CheckRun, sent: Sent, count = 1, ms?: number): Promise<string[]> {
  if (await run.outcomes(sent, count, ms)) return [];
  const waited = ms ?? probe.options.timeoutMs;
  return [
    `no outcome report within ${waited} ms for key ${sent.command.idempotencyKey} (is the worker running, reading ${probe.commandTopic}?)`,
    ...malformed(run.observed()),
  ];
}

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'execute',
    about: 'one step.execute: exactly one outcome, a well-formed step.completed for its run, step and attempt',
    async run(probe) {
      const run = probe.newRun('execute');
      const sent = await run.send();
      const missing = await awaited(probe, run, sent);
      if (missing.length > 0) return missing;
      await probe.settle();
      return judgeExecute(run.observed());
    },
  },
  {
    name: 'duplicate',
    about: 'the same command again after its outcome: the stored outcome reported again, nothing executed twice',
    async run(probe) {
      const run = probe.newRun('duplicate');
      const sent = await run.send();
      const missing = await awaited(probe, run, sent);
      if (missing.length > 0) return missing;
      await run.resend(sent);
      // A worker that never answers the redelivery is judged on what it did send.
      await run.outcomes(sent, 2);
      await probe.settle();
      return judgeDuplicate(run.observed());
    },
  },
  {
    name: 'duplicate-in-flight',
    about: 'the same command twice while the first runs: one execution (the second is silent or repeats the outcome)',
    async run(probe) {
      const run = probe.newRun('duplicate-in-flight');
      const sent = await run.send({ sleepMs: IN_FLIGHT_SLEEP_MS });
      await run.resend(sent);
      const missing = await awaited(probe, run, sent, 1, probe.options.timeoutMs + IN_FLIGHT_SLEEP_MS);
      if (missing.length > 0) return missing;
      // A worker that takes one command at a time answers the second delivery after the first: wait for it too.
      await run.outcomes(sent, 2, probe.options.settleMs + IN_FLIGHT_SLEEP_MS);
      await probe.settle();
      return judgeDuplicateInFlight(run.observed());
    },
  },
  {
    name: 'stale-attempt',
    about: 'attempt 2, then attempt 1 arriving late: each answered under its own key, attempt 2 not run again',
    async run(probe) {
      const run = probe.newRun('stale-attempt');
      const newer = await run.send({ attempt: 2 });
      const missing = await awaited(probe, run, newer);
      if (missing.length > 0) return missing;
      const older = await run.send({ attempt: 1 });
      const late = await awaited(probe, run, older);
      if (late.length > 0) return late;
      await probe.settle();
      return judgeStaleAttempt(run.observed());
    },
  },
  {
    name: 'past-deadline',
    about: 'a command whose deadline has passed: not started; step.failed STEP.DEADLINE_EXCEEDED, retryable',
    async run(probe) {
      const run = probe.newRun('past-deadline');
      const sent = await run.send({ deadline: probe.nowMs() - 60_000 });
      const missing = await awaited(probe, run, sent);
      if (missing.length > 0) return missing;
      await probe.settle();
      return judgePastDeadline(run.observed());
    },
  },
  {
    name: 'compensate',
    about: 'one step.compensate: exactly one outcome, reported with phase "compensate"',
    async run(probe) {
      const run = probe.newRun('compensate');
      const sent = await run.send({ phase: 'compensate' });
      const missing = await awaited(probe, run, sent);
      if (missing.length > 0) return missing;
      await probe.settle();
      return judgeCompensate(run.observed());
    },
  },
  {
    name: 'heartbeats',
    about: `a ${HEARTBEAT_SLEEP_MS} ms step with heartbeatIntervalMs ${HEARTBEAT_INTERVAL_MS}: step.started, then step.heartbeat at about that pace`,
    async run(probe) {
      const run = probe.newRun('heartbeats');
      const sent = await run.send({ sleepMs: HEARTBEAT_SLEEP_MS, heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS });
      const missing = await awaited(probe, run, sent, 1, probe.options.timeoutMs + HEARTBEAT_SLEEP_MS);
      if (missing.length > 0) return missing;
      await probe.settle();
      return judgeHeartbeats(run.observed(), HEARTBEAT_SLEEP_MS);
    },
  },
];

export const SCENARIO_NAMES: readonly string[] = SCENARIOS.map((s) => s.name);
