import { randomBytes } from 'node:crypto';
import { Topics, topicNames } from '@orchestron/bus';
import { KafkaUnreachableError, UsageError } from '../cli.errors.ts';
import { resolveBrokers } from '../kafka-topic.ts';
import { printJson } from '../output.ts';
import { resultLine, runWorkerCheck } from '../worker-check/kit.ts';
import { CHECK_ACTION } from '../worker-check/protocol.ts';
import { SCENARIO_NAMES, SCENARIOS } from '../worker-check/scenarios.ts';
import type { CliContext } from '../cli.context.ts';
import type { ScenarioResult } from '../worker-check/kit.ts';
import type { Scenario } from '../worker-check/scenarios.ts';
import type { Command } from 'commander';

interface WorkerCheckOptions {
  readonly worker: string;
  readonly brokers?: string;
  readonly topicPrefix?: string;
  readonly timeoutMs: string;
  readonly scenario?: readonly string[];
  readonly json?: boolean;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** How long each scenario listens after the reports it waits for, for reports that should not come. */
const SETTLE_MS = 1_000;

const HELP = `
Acts as the orchestrator against a LIVE worker, over Kafka: publishes step commands on the worker's command
topic (<prefix>orchestron.commands.<worker>) and reads its reports from <prefix>orchestron.step.events, then
checks them against the worker contract (docs/asyncapi.yaml, "A worker's duties"). Scenarios, in order:
${SCENARIOS.map((s) => `  ${s.name.padEnd(20)} ${s.about}`).join('\n')}

Every report is also checked for: a valid StepEvent (the schema of docs/asyncapi.yaml), keyed by its run id and on
the partition murmur2 gives that key, about the step, attempt and phase of a command that was sent, and carrying a
traceparent header in the run's trace (the kit sends the traceparent the orchestrator would).

What the worker must do to be checked: run as it always does, consuming its command topic in its group
(orchestron-worker-<worker>, a new group from the earliest offset), and have a handler for the action
"${CHECK_ACTION}", for step.execute and step.compensate alike. Its input is {"sleepMs": <integer>, "nonce": <string>};
it waits sleepMs ms (heartbeating as for any step), then completes with the output
{"nonce": <the input's nonce>, "execution": <a string new for each execution, e.g. a UUID>}.
A fresh execution id per run of the handler is how the kit tells "the stored outcome, reported again" (same id)
from "executed twice" (two ids). The TypeScript SDK has it ready: workerCheckHandler from @orchestron/worker-sdk.
Examples: examples/workers/kcat-worker.sh (bash + kcat + jq), and apps/workers (the SDK's example workers).

The kit's runs are named worker-check-<random>-<scenario> and its consumer group is its own, so it never takes a
real run's reports. The worker's reports about them still land on the step-events topic, where an orchestrator on the same prefix
dead-letters them as unknown runs: start the worker under a prefix of its own (ORCHESTRON_TOPIC_PREFIX) and pass
the same one with --topic-prefix. A new group reads the step-events topic from its start: a fresh prefix is fast.

Prints one line per scenario, "pass  <scenario>" or "FAIL  <scenario>: <violations>" (with --json, one JSON
object per scenario). Exits 0 when every scenario passes, 1 when any fails, 2 for bad options, 4 when Kafka
cannot be reached. Takes about 15 s against a conforming worker.

Examples:
  $ ORCHESTRON_TOPIC_PREFIX=check. examples/workers/kcat-worker.sh mail &
  $ orchestron worker-check --worker mail --topic-prefix check.
  $ orchestron worker-check --worker mail --topic-prefix check. --scenario duplicate past-deadline
`;

export function registerWorkerCheckCommand(program: Command, ctx: CliContext): void {
  program
    .command('worker-check')
    .description(
      'check a live worker against the worker contract: execute, duplicate, stale attempt, deadline, compensate, heartbeats',
    )
    .requiredOption('--worker <name>', 'the worker name: the suffix of its command topic')
    .option('--brokers <list>', 'comma-separated host:port (default: $ORCHESTRON_KAFKA_BROKERS or 127.0.0.1:9092)')
    .option('--topic-prefix <prefix>', "the worker's topic prefix (default: $ORCHESTRON_TOPIC_PREFIX, else none)")
    .option('--timeout-ms <n>', 'how long to wait for a report the contract requires', String(DEFAULT_TIMEOUT_MS))
    .option('--scenario <names...>', `only these scenarios (${SCENARIO_NAMES.join(', ')}); default all`)
    .option('--json', 'one line of JSON per scenario: {"scenario","ok","violations","ms"}')
    .addHelpText('after', HELP)
    .action(async (options: WorkerCheckOptions) => {
      const results = await check(ctx, options);
      const failed = results.filter((r) => !r.ok).length;
      ctx.io.err(
        failed === 0
          ? `worker "${options.worker}" passed all ${results.length} scenarios`
          : `worker "${options.worker}" failed ${failed} of ${results.length} scenarios`,
      );
      ctx.finish(failed === 0 ? { kind: 'succeeded' } : { kind: 'check_failed' });
    });
}

async function check(ctx: CliContext, options: WorkerCheckOptions): Promise<ScenarioResult[]> {
  const timeoutMs = Number(options.timeoutMs);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 600_000)
    throw new UsageError(`--timeout-ms must be a whole number of ms from 100 to 600000, not "${options.timeoutMs}"`);
  if (!/^[A-Za-z0-9._-]{1,200}$/.test(options.worker))
    throw new UsageError(
      `--worker must be letters, digits, ".", "_" or "-" (it names a topic), not "${options.worker}"`,
    );
  const scenarios = chosen(options.scenario);
  const names = namesFor(options.topicPrefix ?? Topics.prefix);
  const brokers = resolveBrokers(ctx.env, options.brokers);
  const checkId = randomBytes(4).toString('hex');
  // Loaded here, not with the CLI: the Kafka client compiles its option schemas as it loads (see kafka-topic.ts).
  const { createKafkaBus, KafkaBusError } = await import('@orchestron/bus-kafka');
  const bus = createKafkaBus({
    brokers,
    clientId: `orchestron-worker-check-${checkId}`,
    partitions: partitions(ctx.env),
    dlqTopic: names.deadLetters,
    joinTimeoutMs: 20_000,
    shutdownTimeoutMs: 2_000,
  });
  try {
    return await runWorkerCheck({
      bus,
      names,
      worker: options.worker,
      checkId,
      timeoutMs,
      settleMs: SETTLE_MS,
      scenarios,
      onResult: (result) => (options.json ? printJson(ctx.io, result) : ctx.io.out(resultLine(result))),
    });
  } catch (error) {
    if (error instanceof KafkaBusError && error.code === 'BUS.UNAVAILABLE')
      throw new KafkaUnreachableError(brokers, error.message);
    throw error;
  } finally {
    await bus.close().catch(() => undefined);
  }
}

function chosen(names: readonly string[] | undefined): readonly Scenario[] {
  if (names === undefined) return SCENARIOS;
  const unknown = names.filter((name) => !SCENARIO_NAMES.includes(name));
  if (unknown.length > 0)
    throw new UsageError(
      `--scenario: no scenario ${unknown.map((n) => JSON.stringify(n)).join(', ')}; known: ${SCENARIO_NAMES.join(', ')}`,
    );
  return SCENARIOS.filter((s) => names.includes(s.name));
}

function namesFor(prefix: string): ReturnType<typeof topicNames> {
  try {
    return topicNames(prefix);
  } catch (error) {
    throw new UsageError(`--topic-prefix: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The partitions of a command topic the kit has to create: as many as the deployment's services would give it. */
function partitions(env: Readonly<Record<string, string | undefined>>): number {
  const raw = env['ORCHESTRON_KAFKA_PARTITIONS'];
  if (raw === undefined || raw === '') return 3;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 1000)
    throw new UsageError(`ORCHESTRON_KAFKA_PARTITIONS must be a whole number from 1 to 1000, not "${raw}"`);
  return n;
}
