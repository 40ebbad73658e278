// The operator of the fault suite: approves each gate that a run's plan expects, once, as the watch sees it open;
// a gate the plan does not expect is left shut and recorded (the run will not end as predicted).
import type { Api, Started } from './load.ts';
import type { Gate } from './watch.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class Approver {
  /** `runId/stepId` of gates no plan expects. */
  readonly unexpected = new Map<string, Set<string>>();
  readonly errors: string[] = [];
  approvals = 0;
  private readonly queue: { gate: Gate; seen: number }[] = [];
  private readonly done = new Set<string>();
  /** Gates asked for without an answer (the API killed mid-call) or with a 5xx: the approval may have landed. */
  private readonly unanswered = new Set<string>();
  private stopped = false;
  private loop: Promise<void> | undefined;

  private readonly api: Api;
  private readonly runOf: (runId: string) => Started | undefined;

  private readonly afterMs: number;

  /** `afterMs`: how long a gate stays open before it is approved, as a person takes (0: at once). */
  constructor(api: Api, runOf: (runId: string) => Started | undefined, afterMs = 0) {
    this.api = api;
    this.runOf = runOf;
    this.afterMs = afterMs;
  }

  offer(gate: Gate): void {
    this.queue.push({ gate, seen: Date.now() });
  }

  start(): void {
    this.loop = (async () => {
      while (!this.stopped) {
        const batch = this.queue.splice(0, this.queue.length);
        await Promise.all(batch.map((item) => this.handle(item)));
        await sleep(200);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  private async handle(item: { gate: Gate; seen: number }): Promise<void> {
    const { runId, stepId } = item.gate;
    const id = `${runId}/${stepId}`;
    if (this.done.has(id)) return;
    if (Date.now() - item.seen < this.afterMs) {
      this.queue.push(item);
      return;
    }
    const run = this.runOf(runId);
    if (run === undefined) {
      // The producer may not have the start's answer yet; a run still unknown after a minute is someone else's.
      if (Date.now() - item.seen < 60_000) this.queue.push(item);
      return;
    }
    if (!run.plan.expected.approvals.includes(stepId)) {
      this.done.add(id);
      this.unexpected.set(runId, (this.unexpected.get(runId) ?? new Set()).add(stepId));
      return;
    }
    const answer = await this.api.call('operator', 'POST', `/v1/runs/${runId}/actions/approve`, {
      stepId,
      reason: 'fault suite: a gate the plan expects',
    });
    if (answer?.status === 200 || (this.unanswered.has(id) && landedBefore(answer?.status, answer?.body))) {
      this.done.add(id);
      this.approvals++;
    } else if (answer === undefined || answer.status >= 500 || answer.status === 429) {
      this.unanswered.add(id); // a 503 may come after the approval reached the orchestrator (broker outage)
      this.queue.push(item); // the API is away or busy: ask again next round
    } else {
      this.done.add(id);
      this.errors.push(`${run.plan.key} ${stepId}: HTTP ${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`);
    }
  }
}

/**
 * A 409 saying the gate is no longer open: after an unanswered call or a 5xx, that call's approval is what moved it
 * on (operator actions carry no idempotency key yet, so asking again cannot get the first answer back).
 */
function landedBefore(status: number | undefined, body: unknown): boolean {
  const code = (body as { error?: { code?: unknown } } | undefined)?.error?.code;
  return status === 409 && typeof code === 'string' && GATE_MOVED_ON.has(code);
}

const GATE_MOVED_ON: ReadonlySet<string> = new Set([
  'RUN.ALREADY_TERMINAL',
  'STEP.ALREADY_TERMINAL',
  'STEP.NOT_AWAITING_APPROVAL',
]);
