// The fault suite's users: a producer that keeps a number of runs in flight through the API (asking again with the
// same idempotency key whenever it is not answered with the run), and an operator who approves the gates a run's
// plan expects. Every HTTP answer is tallied by status, so a 5xx anywhere shows in the report.
import type { PlannedRun } from '../support/stack-scenarios.ts';

type Role = 'admin' | 'operator' | 'producer' | 'auditor';

export interface Started {
  readonly plan: PlannedRun;
  runId: string;
  /** When the API first answered the start with the run (201, or 200 for a repeat), epoch ms. */
  readonly at: number;
}

export class HttpTally {
  readonly statuses = new Map<number, number>();
  /** Calls that got no HTTP answer at all (connection refused or reset, timeout): the API was down. */
  unanswered = 0;
  /** The first few 5xx other than a retryable 503, for the report. */
  readonly crashes: string[] = [];

  count(status: number, what: string, body: string): void {
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
    if (status >= 500 && (status !== 503 || !/"retryable"\s*:\s*true/.test(body)) && this.crashes.length < 5)
      this.crashes.push(`${what}: HTTP ${status} ${body.slice(0, 300)}`);
  }

  /** Answers with a 5xx status that is not a retryable 503. */
  get serverErrors(): number {
    return [...this.statuses].filter(([s]) => s >= 500 && s !== 503).reduce((n, [, c]) => n + c, 0) + this.badRetry;
  }

  /** 503s without `retryable: true`. */
  badRetry = 0;
}

export class Api {
  readonly tally = new HttpTally();
  private readonly url: () => string;
  private readonly keys: Readonly<Record<Role, string>>;

  constructor(url: () => string, keys: Readonly<Record<Role, string>>) {
    this.url = url;
    this.keys = keys;
  }

  /** One call; `undefined` when no HTTP answer came. */
  async call<T>(
    role: Role,
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T } | undefined> {
    let response: Response;
    try {
      response = await fetch(`${this.url()}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.keys[role]}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(30_000),
      });
    } catch {
      this.tally.unanswered++;
      return undefined;
    }
    const text = await response.text().catch(() => '');
    this.tally.count(response.status, `${method} ${path.replace(/[0-9a-f-]{36}/g, ':id')}`, text);
    if (response.status === 503 && !/"retryable"\s*:\s*true/.test(text)) this.tally.badRetry++;
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: the caller sees the text
    }
    return { status: response.status, body: parsed as T };
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface ProducerOptions {
  readonly inFlight: number;
  readonly concurrency: number;
  readonly giveUpMs: number;
  readonly ended: (runId: string) => boolean;
  readonly onStarted?: (started: Started) => void;
  /** Plans started before `more` is asked (default: all of them). */
  readonly minimum?: number;
  /** Past `minimum`, whether to go on starting plans (while there are any left). */
  readonly more?: () => boolean;
}

/**
 * Starts `plans` in order, keeping at most `inFlight` of them started and not yet ended (`ended` answers for a run
 * id), `concurrency` starts at a time. A start that is not answered with its run (no answer, a 5xx, a 202 accepted
 * into the outbox) is asked again with the same key every 250 ms, for `giveUpMs`; a start never answered with its run
 * by then is lost. Resolves when every plan has been started (or given up on), or `stop()` was called.
 */
export class Producer {
  readonly started: Started[] = [];
  readonly givenUp: PlannedRun[] = [];
  /** 4xx answers to a start: a bug in the suite or the API. */
  readonly refused: string[] = [];
  retries = 0;
  private next = 0;
  private stopping = false;

  private readonly api: Api;
  private readonly plans: readonly PlannedRun[];
  private readonly options: ProducerOptions;

  constructor(api: Api, plans: readonly PlannedRun[], options: ProducerOptions) {
    this.api = api;
    this.plans = plans;
    this.options = options;
  }

  get inFlight(): number {
    return this.started.filter((s) => !this.options.ended(s.runId)).length;
  }

  get done(): boolean {
    if (this.stopping || this.next >= this.plans.length) return true;
    return this.next >= (this.options.minimum ?? this.plans.length) && !(this.options.more?.() ?? false);
  }

  stop(): void {
    this.stopping = true;
  }

  async run(): Promise<void> {
    let open = 0;
    const lanes = Array.from({ length: this.options.concurrency }, async () => {
      while (!this.done) {
        if (open + this.inFlight >= this.options.inFlight) {
          await sleep(50);
          continue;
        }
        const plan = this.plans[this.next++] as PlannedRun;
        open++;
        try {
          await this.startOne(plan);
        } finally {
          open--;
        }
      }
    });
    await Promise.all(lanes);
  }

  private async startOne(plan: PlannedRun): Promise<void> {
    const giveUpAt = Date.now() + this.options.giveUpMs;
    for (let first = true; ; first = false) {
      if (!first) {
        this.retries++;
        await sleep(250);
      }
      const answer = await this.api.call<{ run?: { id: string } }>('producer', 'POST', '/v1/runs', {
        definitionId: plan.definitionId,
        input: plan.input,
        idempotencyKey: plan.key,
      });
      if (answer !== undefined && (answer.status === 200 || answer.status === 201) && answer.body.run) {
        const started: Started = { plan, runId: answer.body.run.id, at: Date.now() };
        this.started.push(started);
        this.options.onStarted?.(started);
        return;
      }
      if (answer !== undefined && answer.status >= 400 && answer.status < 500) {
        this.refused.push(`${plan.key}: HTTP ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
        return;
      }
      if (Date.now() > giveUpAt) {
        this.givenUp.push(plan);
        return;
      }
    }
  }
}
