import { randomBytes } from 'node:crypto';
import type { BusSubscription, DeliveredMessage, MessageBus, TopicNames } from '@orchestron/bus';
import { checkCommand, dispatchTraceparent, phaseOf } from './protocol.ts';
import type { CommandSpec, Report, Sent } from './protocol.ts';
import { outcomesAbout } from './reports.ts';
import type { Observed } from './reports.ts';

export interface ProbeOptions {
  readonly bus: MessageBus;
  /** The deployment's topic names: the worker's prefix. */
  readonly names: TopicNames;
  readonly worker: string;
  /** Unique per check: it is in every run id and in the kit's consumer group, so two checks never mix. */
  readonly checkId: string;
  /** The longest wait for a report the contract says must come. */
  readonly timeoutMs: number;
  /** How long to keep listening after the reports a scenario waits for, for reports that should not come. */
  readonly settleMs: number;
  readonly now?: () => number;
}

/**
 * The orchestrator's side of the wire, for the kit: sends commands to the worker's command topic and collects the
 * reports about the kit's own runs from the step-events topic, in a consumer group of its own.
 */
export class Probe {
  private readonly reports = new Map<string, Report[]>();
  private readonly waiters = new Set<() => void>();
  private subscription: BusSubscription | undefined;
  private readonly now: () => number;
  readonly options: ProbeOptions;

  private constructor(options: ProbeOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  static async open(options: ProbeOptions): Promise<Probe> {
    const probe = new Probe(options);
    const { bus, names } = options;
    // As the orchestrator does: the command topic exists before anything is sent, with the deployment's partitions.
    await bus.ensureTopics([names.commands(options.worker), names.stepEvents]);
    probe.subscription = await bus.subscribe(
      { topics: [names.stepEvents], group: names.group(`orchestron-worker-check-${options.checkId}`), concurrency: 1 },
      async (message) => probe.take(message),
    );
    return probe;
  }

  get commandTopic(): string {
    return this.options.names.commands(this.options.worker);
  }

  /** A run of its own for one scenario. */
  newRun(scenario: string): CheckRun {
    return new CheckRun(this, `worker-check-${this.options.checkId}-${scenario}`);
  }

  async publish(sent: Sent): Promise<void> {
    const { command, traceparent } = sent;
    await this.options.bus.publish(this.commandTopic, [
      { key: command.runId, value: command, headers: { traceparent } },
    ]);
  }

  reportsOf(runId: string): readonly Report[] {
    return [...(this.reports.get(runId) ?? [])];
  }

  /** Resolves true as soon as `done` holds for the run's reports, false when `ms` pass first. */
  until(runId: string, done: (reports: readonly Report[]) => boolean, ms = this.options.timeoutMs): Promise<boolean> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (!done(this.reportsOf(runId))) return;
        finish(true);
      };
      const timer = setTimeout(() => finish(false), ms);
      const finish = (result: boolean): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(result);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Listens a while longer, for reports that should not come. */
  settle(ms = this.options.settleMs): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  nowMs(): number {
    return this.now();
  }

  async close(): Promise<void> {
    await this.subscription?.close();
    this.subscription = undefined;
  }

  private take(message: DeliveredMessage): void {
    const value = message.value as { runId?: unknown } | null;
    const runId = typeof value?.runId === 'string' ? value.runId : message.key;
    // Everything else on the topic (real runs, earlier checks) is none of the kit's business.
    if (!runId.startsWith(`worker-check-${this.options.checkId}-`)) return;
    const list = this.reports.get(runId) ?? [];
    list.push({
      key: message.key,
      partition: message.partition,
      headers: message.headers ?? {},
      value: message.value,
      at: this.now(),
    });
    this.reports.set(runId, list);
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** One scenario's run: the commands sent in it, and what came back. */
export class CheckRun {
  private readonly sent: Sent[] = [];
  private readonly probe: Probe;
  readonly runId: string;

  constructor(probe: Probe, runId: string) {
    this.probe = probe;
    this.runId = runId;
  }

  /** Sends a command of the worker-check action; the deadline defaults to the kit's timeout from now. */
  async send(spec: Partial<Omit<CommandSpec, 'runId' | 'worker' | 'nonce'>> = {}): Promise<Sent> {
    const { timeoutMs, worker } = this.probe.options;
    const sleepMs = spec.sleepMs ?? 0;
    const command = checkCommand({
      runId: this.runId,
      worker,
      attempt: spec.attempt ?? 1,
      phase: spec.phase ?? 'execute',
      deadline: spec.deadline === undefined ? this.probe.nowMs() + timeoutMs + sleepMs : spec.deadline,
      heartbeatIntervalMs: spec.heartbeatIntervalMs ?? null,
      sleepMs,
      nonce: randomBytes(6).toString('hex'),
    });
    return this.resend({ command, traceparent: dispatchTraceparent(command.runId, command.idempotencyKey) });
  }

  /** Delivers a command again, byte for byte the same: what a redelivery after a crash or rebalance looks like. */
  async resend(sent: Sent): Promise<Sent> {
    this.sent.push(sent);
    await this.probe.publish(sent);
    return sent;
  }

  /** Waits for `count` outcome reports about the attempt the command names. */
  outcomes(sent: Sent, count: number, ms?: number): Promise<boolean> {
    const { attempt } = sent.command;
    const phase = phaseOf(sent.command);
    return this.probe.until(
      this.runId,
      (reports) => outcomesAbout({ ...this.observed(), reports }, phase, attempt).length >= count,
      ms,
    );
  }

  observed(): Observed {
    const { bus, names } = this.probe.options;
    return {
      sent: [...this.sent],
      reports: this.probe.reportsOf(this.runId),
      partition: bus.partitionOf(names.stepEvents, this.runId),
    };
  }
}
