// The smallest proof that a stack serves: a vendor-payment run (examples/vendor-payment.yaml, registered by the API at
// start) through the API, the orchestrator, governance (the charge is a side effect) and the payments worker.
import type { Role } from './services.ts';

export interface RunsTarget {
  readonly url: string;
  readonly keys: Readonly<Record<Role, string>>;
}

/**
 * Every call here is safe to repeat (reads, and starts under an idempotency key), so one whose connection fails is
 * sent again, twice at most: a restarted API closes the kept-alive connections of the one before it.
 */
async function call(stack: RunsTarget, method: string, path: string, body?: unknown): Promise<unknown> {
  const send = (): Promise<Response> =>
    fetch(`${stack.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${stack.keys.producer}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  let response: Response | undefined;
  for (let attempt = 1; response === undefined; attempt++) {
    try {
      response = await send();
    } catch (error) {
      if (attempt >= 3) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${text.slice(0, 500)}`);
  return JSON.parse(text) as unknown;
}

/** Starts a vendor payment under the limit (governance allows it without an approval); returns its run id. */
export async function startPayment(stack: RunsTarget, key: string): Promise<string> {
  const answer = (await call(stack, 'POST', '/v1/runs', {
    definitionId: 'vendor-payment',
    idempotencyKey: key,
    input: { vendor: 'acme', amount: 200, invoiceId: key },
  })) as { run: { id: string } };
  return answer.run.id;
}

/** The run's status once it has ended, or `undefined` if it has not within `timeoutMs`. */
export async function waitForEnd(stack: RunsTarget, runId: string, timeoutMs: number): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) return undefined;
    const answer = (await call(stack, 'GET', `/v1/runs/${runId}/wait?timeoutMs=${Math.min(left, 30_000)}`)) as {
      run: { status: string };
      wait: { ended: boolean };
    };
    if (answer.wait.ended) return answer.run.status;
  }
}

/** Starts a payment and waits for it; throws unless it completes within `timeoutMs`. Returns how long it took, ms. */
export async function completePayment(stack: RunsTarget, key: string, timeoutMs = 60_000): Promise<number> {
  const began = Date.now();
  const runId = await startPayment(stack, key);
  const status = await waitForEnd(stack, runId, timeoutMs);
  if (status !== 'completed')
    throw new Error(
      `run ${runId} (${key}) ${status === undefined ? `had not ended after ${timeoutMs} ms` : `ended ${status}`}`,
    );
  return Date.now() - began;
}
