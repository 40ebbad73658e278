import { afterAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { webhookIdOf } from '@orchestron/notifications';
import type { Notification } from '@orchestron/notifications';
import { startWebhookReceiver } from '@orchestron/notifications/testing';
import type { WebhookReceiver } from '@orchestron/notifications/testing';
import { api, runCli, startServer } from '../support/server-process.ts';
import type { CliResult, ServerProcess } from '../support/server-process.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** One task step that fails for good, in a definition that escalates: the quickest way to `needs_operator`. */
const PAGE_ME = {
  id: 'page-me',
  version: 1,
  onFailure: 'escalate',
  steps: { boom: { worker: 'chat', input: { message: 'x', simulate: { boom: 'fail-terminal' } } } },
};

/** Webhooks through the real server process, its SQLite store and a real HTTP receiver, across a kill -9. */
describe('webhooks', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step();
  });

  const cli = (server: ServerProcess, ...args: string[]): Promise<CliResult> => runCli(server, args);

  async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('sends one signed run.needs_operator after a kill -9 that came between the event and its delivery', async () => {
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    // The receiver's port is taken, then let go: the receiver is down while the run escalates.
    const probe = await startWebhookReceiver(secret);
    const { port, url } = probe;
    await probe.close();
    const dataDir = mkdtempSync(join(tmpdir(), 'orchestron-webhooks-'));
    const env = {
      ORCHESTRON_WORK_MS: '10',
      ORCHESTRON_WEBHOOKS: JSON.stringify([{ id: 'pager', url, secret, events: ['run.needs_operator'] }]),
    };
    const first = await startServer(dataDir, env);
    cleanup.push(() => first.kill());
    const started = await api<Json>(first, 'POST', '/v1/runs', { definition: PAGE_ME, input: {} });
    expect(started.status).toBe(201);
    const runId = started.body.run.id as string;
    // The run escalates although no receiver answers: deliveries are off its path.
    await until('the run to need an operator', async () => {
      const { body } = await api<Json>(first, 'GET', `/v1/runs/${runId}`);
      return body.run.status === 'needs_operator' ? true : undefined;
    });
    await first.kill('SIGKILL');

    let receiver: WebhookReceiver | undefined = await startWebhookReceiver(secret, { port });
    cleanup.push(() => receiver?.close() ?? Promise.resolve());
    const second = await startServer(dataDir, env);
    cleanup.push(() => second.kill('SIGTERM'));
    let logs = '';
    second.child.stderr?.on('data', (chunk: Buffer) => (logs += chunk.toString()));

    const [hook] = await receiver.waitFor(1, 20_000);
    const events = (await api<Json>(second, 'GET', `/v1/runs/${runId}/events`)).body.events as Json[];
    const escalation = events.find((e) => e.type === 'RunNeedsOperator') as Json;
    expect(hook?.verified).toBe(true);
    const notification = hook?.payload as Notification;
    expect(hook?.headers['webhook-id']).toBe(webhookIdOf(notification.data.eventId));
    expect(notification).toMatchObject({
      type: 'run.needs_operator',
      data: {
        runId,
        tenant: 'default',
        definitionId: 'page-me',
        stepId: 'boom',
        code: 'SIMULATED.TERMINAL',
        link: `/v1/runs/${runId}`,
        position: escalation.position,
      },
    });

    const listed = await until('the delivery to be recorded as delivered', async () => {
      const out = await cli(second, 'notifications', 'list', '--run', runId, '--json');
      const deliveries = JSON.parse(out.stdout.trim()).deliveries as Json[];
      return deliveries[0]?.status === 'delivered' ? deliveries : undefined;
    });
    expect(listed).toEqual([
      expect.objectContaining({ endpoint: 'pager', type: 'run.needs_operator', status: 'delivered', lastStatus: 204 }),
    ]);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(receiver.received).toHaveLength(1);
    const table = await cli(second, 'notifications', 'list', '--status', 'delivered');
    expect(table.stdout).toMatch(new RegExp(`run\\.needs_operator +${runId} +boom +delivered`));
    expect(logs).not.toContain(secret.slice(6));
    await receiver.close();
    receiver = undefined;
    // Two server starts, a kill -9 and the deliveries' own waits add up to more than Jest's default 30 s under load.
  }, 90_000);

  it('refuses to start on a bad webhook config, naming the field and not the secret', async () => {
    const secret = `whsec_${randomBytes(8).toString('base64')}`;
    const dataDir = mkdtempSync(join(tmpdir(), 'orchestron-webhooks-bad-'));
    const bad = JSON.stringify([
      { url: 'https://hooks.example.com/x', secret: `whsec_${randomBytes(32).toString('base64')}` },
      { url: 'https://h/y', secret },
    ]);
    const refused = startServer(dataDir, { ORCHESTRON_WEBHOOKS: bad });
    await expect(refused).rejects.toThrow(/ORCHESTRON_WEBHOOKS\[1\]\.secret must hold 24 to 64 bytes/);
    await expect(refused).rejects.not.toThrow(secret.slice(6));
  });
});
