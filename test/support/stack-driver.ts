// Drives runs through the stack's HTTP API as its users would: a producer starts them (retrying with the same
// idempotency key when the API cannot answer yet), an operator approves the gates the plan expects, an auditor reads
// them back until each one settles.
import type { PlannedRun } from './stack-scenarios.ts';

type Role = 'admin' | 'operator' | 'producer' | 'auditor';

export interface StepView {
  readonly id: string;
  readonly type: string;
  readonly status: string;
  readonly attempt: number;
  readonly governance: { readonly outcome: string; readonly policyId: string | null } | null;
  readonly compensation: { readonly status: string } | null;
}

export interface RunView {
  readonly id: string;
  readonly status: string;
  /** The run stream's revision: it moves whenever anything happens to the run. */
  readonly version: number;
  readonly attention: unknown;
  readonly failure: {
    readonly stepId: string;
    readonly error: { readonly code: string; readonly details?: { readonly policyId?: string } };
  } | null;
  readonly steps: readonly StepView[];
}

export interface HistoryEvent {
  readonly type: string;
  readonly data: Record<string, unknown>;
  readonly metadata: Record<string, unknown>;
}

export interface TrackedRun {
  readonly plan: PlannedRun;
  readonly phase: number;
  runId: string | null;
  startRetries: number;
  /** The last view read; final once `settled`. */
  view: RunView | null;
  settled: boolean;
  readonly approved: Set<string>;
  /** Gates that opened although the plan expects none there: the test does not approve them. */
  readonly unexpectedGates: Set<string>;
  readonly approveErrors: string[];
}

/** A run is settled when it can move no further without an operator; needs_operator is not, as it may resume. */
export const SETTLED = new Set(['completed', 'failed', 'compensated', 'cancelled']);

export class StackClient {
  readonly url: string;
  private readonly keys: Readonly<Record<Role, string>>;

  constructor(url: string, keys: Readonly<Record<Role, string>>) {
    this.url = url;
    this.keys = keys;
  }

  async request<T>(
    role: Role,
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.keys[role]}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Prometheus text and the odd proxy error page are not JSON; the caller gets the text.
    }
    return { status: response.status, body: parsed as T };
  }

  async history(runId: string): Promise<HistoryEvent[]> {
    const res = await this.request<{ events: HistoryEvent[] }>('auditor', 'GET', `/v1/runs/${runId}/events`);
    if (res.status !== 200)
      throw new Error(`GET /v1/runs/${runId}/events: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
    return res.body.events;
  }
}

/** Runs `work` over `items` with at most `limit` at a time. */
export async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class RunDriver {
  readonly runs: TrackedRun[] = [];
  private readonly client: StackClient;
  private readonly print: (line: string) => void;

  constructor(client: StackClient, print: (line: string) => void) {
    this.client = client;
    this.print = print;
  }

  /**
   * Starts every plan through POST /v1/runs. A 5xx, a 202 (accepted, not started yet) or a dropped connection is
   * retried with the same key, as a real producer would; anything else (a 4xx) is a bug in the test or the API and
   * fails at once.
   */
  async start(
    plans: readonly PlannedRun[],
    phase: number,
    options: { concurrency: number; onStarted?: (count: number) => void },
  ): Promise<TrackedRun[]> {
    const tracked = plans.map((plan): TrackedRun => ({
      plan,
      phase,
      runId: null,
      startRetries: 0,
      view: null,
      settled: false,
      approved: new Set(),
      unexpectedGates: new Set(),
      approveErrors: [],
    }));
    this.runs.push(...tracked);
    let started = 0;
    await eachLimited(tracked, options.concurrency, async (run) => {
      const deadline = Date.now() + 120_000;
      for (;;) {
        let failure: string;
        try {
          const res = await this.client.request<{ run: { id: string } }>('producer', 'POST', '/v1/runs', {
            definitionId: run.plan.definitionId,
            input: run.plan.input,
            idempotencyKey: run.plan.key,
          });
          if (res.status === 200 || res.status === 201) {
            run.runId = res.body.run.id;
            options.onStarted?.(++started);
            return;
          }
          // 202: recorded in the API's outbox, not started yet; asking again with the key follows it (docs/api.md).
          if (res.status !== 202 && res.status < 500)
            throw new Error(`start ${run.plan.key}: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 400)}`);
          failure = `HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`;
        } catch (error) {
          if (error instanceof Error && error.message.startsWith('start ')) throw error;
          failure = error instanceof Error ? error.message : String(error);
        }
        run.startRetries++;
        if (Date.now() > deadline)
          throw new Error(`start ${run.plan.key}: still failing after 120 s of retries; last: ${failure}`);
        await sleep(250);
      }
    });
    return tracked;
  }

  /**
   * Reads each unsettled run by id until it settles, approving the gates its plan expects as they open. Prints
   * progress at most every 5 s. Gives up at `deadline`, or sooner when no run has moved for `quietMs` (longer than
   * any timeout, retry or takeover of the stack); runs still unsettled then stay `settled: false`.
   */
  async settle(runs: readonly TrackedRun[], label: string, deadline: number, quietMs = 60_000): Promise<void> {
    let lastPrint = Date.now();
    let lastMove = Date.now();
    const began = Date.now();
    for (;;) {
      const open = runs.filter((r) => !r.settled);
      if (open.length === 0 || Date.now() > deadline) break;
      if (Date.now() - lastMove > quietMs) {
        this.print(`stack e2e [${label}]: no run moved for ${quietMs / 1000} s; ${open.length} left unsettled`);
        break;
      }
      const before = open.map((r) => r.view?.version);
      await eachLimited(open, 8, (run) => this.poll(run));
      if (open.some((r, i) => r.view?.version !== before[i])) lastMove = Date.now();
      if (Date.now() - lastPrint >= 5_000) {
        lastPrint = Date.now();
        this.print(`stack e2e [${label}] ${((Date.now() - began) / 1000).toFixed(0)} s: ${this.progress(runs)}`);
      }
      if (runs.some((r) => !r.settled)) await sleep(400);
    }
    this.print(`stack e2e [${label}] done in ${((Date.now() - began) / 1000).toFixed(1)} s: ${this.progress(runs)}`);
  }

  progress(runs: readonly TrackedRun[]): string {
    const by = new Map<string, number>();
    for (const run of runs) by.set(run.view?.status ?? 'unread', (by.get(run.view?.status ?? 'unread') ?? 0) + 1);
    const waiting = runs.filter((r) => r.view?.steps.some((s) => s.status === 'waiting_approval')).length;
    const approvals = runs.reduce((n, r) => n + r.approved.size, 0);
    return `${runs.filter((r) => r.settled).length}/${runs.length} settled (${[...by].map(([s, n]) => `${s} ${n}`).join(', ')}), waiting for approval ${waiting}, approved ${approvals}`;
  }

  private async poll(run: TrackedRun): Promise<void> {
    if (run.runId === null) return;
    let res: { status: number; body: { run: RunView } };
    try {
      res = await this.client.request<{ run: RunView }>('auditor', 'GET', `/v1/runs/${run.runId}`);
    } catch {
      return; // read again next round
    }
    if (res.status !== 200) return;
    run.view = res.body.run;
    if (SETTLED.has(run.view.status)) {
      run.settled = true;
      return;
    }
    for (const step of run.view.steps.filter((s) => s.status === 'waiting_approval')) {
      if (!run.plan.expected.approvals.includes(step.id)) {
        // Only an operator could move it on: it has settled, on a wrong outcome.
        run.unexpectedGates.add(step.id);
        run.settled = true;
        continue;
      }
      if (run.approved.has(step.id)) continue;
      try {
        const approve = await this.client.request('operator', 'POST', `/v1/runs/${run.runId}/actions/approve`, {
          stepId: step.id,
          reason: 'stack e2e: expected gate',
        });
        if (approve.status === 200) run.approved.add(step.id);
        else run.approveErrors.push(`${step.id}: HTTP ${approve.status} ${JSON.stringify(approve.body).slice(0, 200)}`);
      } catch (error) {
        run.approveErrors.push(`${step.id}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}
