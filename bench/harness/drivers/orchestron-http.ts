// Orchestron's HTTP API as the bench drives it: start a run and block until it has ended in one request
// (POST /v1/runs?waitMs=), as the peers' drivers do, or start it and wait on GET /v1/runs/:id/wait
// (docs/api.md).
import type { BenchDefinition } from './orchestron-definition.ts';

export interface ApiKeys {
  readonly operator: string;
  readonly producer: string;
}

interface RunView {
  readonly id: string;
  readonly status: string;
  readonly steps: readonly { readonly status: string }[];
}

interface StartAnswer {
  readonly run: RunView;
  readonly accepted?: { readonly idempotencyKey: string };
  readonly wait?: { readonly ended: boolean };
}

export class OrchestronHttp {
  private readonly url: string;
  private readonly keys: ApiKeys;

  constructor(url: string, keys: ApiKeys) {
    this.url = url;
    this.keys = keys;
  }

  /** POST /v1/definitions (a no-op when the same content is registered already). */
  async register(definition: BenchDefinition): Promise<void> {
    await this.call('operator', 'POST', '/v1/definitions', definition, [200, 201]);
  }

  /**
   * POST /v1/runs; resolves with the run id once an orchestrator has started it. A 202 (the start is recorded but
   * not started yet) is asked again with the idempotency key it names, as its agent_contract says.
   */
  async start(definitionId: string, input: unknown): Promise<string> {
    return (await this.#start(definitionId, input, '')).run.id;
  }

  /** One request that starts the run and waits for its end (POST /v1/runs?waitMs=); long polls on if it has not. */
  async startAndAwait(definitionId: string, input: unknown, timeoutMs: number): Promise<RunView | null> {
    const deadline = Date.now() + timeoutMs;
    const body = await this.#start(definitionId, input, `?waitMs=${Math.min(60_000, timeoutMs)}`);
    if (body.wait?.ended === true) return body.run;
    return this.awaitEnd(body.run.id, Math.max(0, deadline - Date.now()));
  }

  async #start(definitionId: string, input: unknown, query: string): Promise<StartAnswer> {
    let request: Record<string, unknown> = { definitionId, input };
    for (;;) {
      const body = await this.call<StartAnswer>('producer', 'POST', `/v1/runs${query}`, request, [200, 201, 202]);
      if (body.accepted === undefined) return body;
      request = { definitionId, input, idempotencyKey: body.accepted.idempotencyKey };
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Long polls until the run has ended or `timeoutMs` passed; resolves with the run as the wait saw it, or null. */
  async awaitEnd(runId: string, timeoutMs: number): Promise<RunView | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const left = Math.max(0, Math.min(60_000, deadline - Date.now()));
      const body = await this.call<{ run: RunView; wait: { ended: boolean } }>(
        'producer',
        'GET',
        `/v1/runs/${encodeURIComponent(runId)}/wait?timeoutMs=${left}`,
        undefined,
        [200],
      );
      if (body.wait.ended) return body.run;
      if (Date.now() >= deadline) return null;
    }
  }

  private async call<T>(
    role: keyof ApiKeys,
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    ok: readonly number[],
  ): Promise<T> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.keys[role]}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(90_000),
    });
    const text = await response.text();
    if (!ok.includes(response.status))
      throw new Error(`${method} ${path}: HTTP ${response.status} ${text.slice(0, 300)}`);
    return JSON.parse(text) as T;
  }
}

/** Completed steps of a run as the API shows it. */
export function completedSteps(run: RunView): number {
  return run.steps.filter((s) => s.status === 'completed').length;
}
