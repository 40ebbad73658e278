import { BREAKER_STATE_VALUE, createMetrics, STEP_DURATION_BUCKETS } from './metrics.ts';
import { serveMetrics } from './metrics-server.ts';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Sample lines of the text exposition, with labels as a map (prom-client does not promise their order). */
function samples(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (match === null) throw new Error(`not a sample line: ${line}`);
      const labels = Object.fromEntries(
        [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
      );
      return { name: match[1] as string, labels, value: Number(match[3]) };
    });
}

function valueOf(all: Sample[], name: string, labels: Record<string, string>): number | undefined {
  return all.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

describe('createMetrics', () => {
  it('renders every Orchestron series with its labels and the service label', async () => {
    const metrics = createMetrics({ service: 'orchestrator' });
    metrics.runsByStatus.set({ status: 'running', tenant: 'default' }, 3);
    metrics.stepRetries.inc({ worker: 'send-email' });
    metrics.setBreakerState('send-email', 'half-open');
    metrics.workerInflight.set({ worker: 'send-email' }, 4);
    metrics.workerLimit.set({ worker: 'send-email' }, 8);
    metrics.consumerLag.set({ group: 'orchestrator', topic: 'orchestron.reports', partition: '2' }, 17);
    metrics.governanceDecisions.inc({ outcome: 'deny', policy: 'no-prod-deletes' });
    metrics.messagesHandled.inc({ topic: 'orchestron.reports', outcome: 'ok' }, 5);

    const all = samples(await metrics.render());
    const service = { service: 'orchestrator' };
    expect(valueOf(all, 'orchestron_runs', { ...service, status: 'running', tenant: 'default' })).toBe(3);
    expect(valueOf(all, 'orchestron_step_retries_total', { ...service, worker: 'send-email' })).toBe(1);
    expect(valueOf(all, 'orchestron_breaker_state', { ...service, worker: 'send-email' })).toBe(
      BREAKER_STATE_VALUE['half-open'],
    );
    expect(valueOf(all, 'orchestron_worker_inflight', { ...service, worker: 'send-email' })).toBe(4);
    expect(valueOf(all, 'orchestron_worker_limit', { ...service, worker: 'send-email' })).toBe(8);
    expect(
      valueOf(all, 'orchestron_consumer_lag', {
        ...service,
        group: 'orchestrator',
        topic: 'orchestron.reports',
        partition: '2',
      }),
    ).toBe(17);
    expect(
      valueOf(all, 'orchestron_governance_decisions_total', { ...service, outcome: 'deny', policy: 'no-prod-deletes' }),
    ).toBe(1);
    expect(
      valueOf(all, 'orchestron_messages_handled_total', { ...service, topic: 'orchestron.reports', outcome: 'ok' }),
    ).toBe(5);
    expect(all.some((s) => s.name === 'process_cpu_user_seconds_total' && s.labels.service === 'orchestrator')).toBe(
      true,
    );
  });

  it('observes step latency in seconds into cumulative buckets from 5 ms to 5 minutes', async () => {
    const metrics = createMetrics({ service: 'orchestrator', defaultMetrics: false });
    const labels = { worker: 'charge-card', outcome: 'completed' };
    metrics.stepDuration.observe(labels, 0.2);
    metrics.stepDuration.observe(labels, 42);

    const buckets = samples(await metrics.render()).filter(
      (s) =>
        s.name === 'orchestron_step_duration_seconds_bucket' &&
        s.labels.worker === 'charge-card' &&
        s.labels.outcome === 'completed',
    );
    expect(buckets.map((b) => b.labels.le)).toEqual([...STEP_DURATION_BUCKETS.map(String), '+Inf']);
    const count = (le: string): number | undefined => buckets.find((b) => b.labels.le === le)?.value;
    expect([count('0.1'), count('0.25'), count('30'), count('60'), count('+Inf')]).toEqual([0, 1, 1, 2, 2]);
  });

  it('keeps each registry separate, so two services in one process do not collide', async () => {
    const a = createMetrics({ service: 'a', defaultMetrics: false });
    const b = createMetrics({ service: 'b', defaultMetrics: false });
    a.stepRetries.inc({ worker: 'w' });
    expect(valueOf(samples(await b.render()), 'orchestron_step_retries_total', { worker: 'w' })).toBeUndefined();
    expect(a.contentType).toContain('text/plain');
  });

  it('refuses an unknown breaker state', () => {
    const metrics = createMetrics({ service: 'a', defaultMetrics: false });
    expect(() => metrics.setBreakerState('w', 'ajar' as never)).toThrow('unknown state "ajar"');
  });
});

describe('serveMetrics', () => {
  it('serves /metrics and /healthz, and nothing else', async () => {
    const metrics = createMetrics({ service: 'governance', defaultMetrics: false });
    metrics.governanceDecisions.inc({ outcome: 'allow', policy: 'default' });
    const server = await serveMetrics({ port: 0, metrics });
    try {
      const scraped = await fetch(`${server.url}/metrics`);
      expect(scraped.status).toBe(200);
      expect(scraped.headers.get('content-type')).toBe(metrics.contentType);
      expect(
        valueOf(samples(await scraped.text()), 'orchestron_governance_decisions_total', {
          outcome: 'allow',
          policy: 'default',
        }),
      ).toBe(1);
      const health = await fetch(`${server.url}/healthz`);
      expect([health.status, await health.json()]).toEqual([200, { status: 'ok' }]);
      expect((await fetch(`${server.url}/other`)).status).toBe(404);
      expect((await fetch(`${server.url}/metrics`, { method: 'POST' })).status).toBe(405);
    } finally {
      await server.close();
    }
  });

  it('asks authenticate before serving /metrics, but not /healthz', async () => {
    const metrics = createMetrics({ service: 'worker', defaultMetrics: false });
    const server = await serveMetrics({
      port: 0,
      metrics,
      authenticate: (request) => request.headers.authorization === 'Bearer scrape',
    });
    try {
      expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
      expect((await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer scrape' } })).status).toBe(200);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('answers 500 with the reason when rendering fails', async () => {
    const server = await serveMetrics({
      port: 0,
      metrics: { contentType: 'text/plain', render: () => Promise.reject(new Error('registry gone')) },
    });
    try {
      const response = await fetch(`${server.url}/metrics`);
      expect([response.status, await response.text()]).toEqual([500, 'metrics could not be rendered: registry gone\n']);
    } finally {
      await server.close();
    }
  });

  it('rejects a bad port with its value', async () => {
    await expect(
      serveMetrics({ port: 70000, metrics: createMetrics({ service: 'x', defaultMetrics: false }) }),
    ).rejects.toThrow('port must be an integer from 0 to 65535, got 70000');
  });
});
