import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Producer } from '@platformatic/kafka';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { ensureChromium } from '../support/chromium.ts';
import {
  ensureConsoleBuilt,
  ESCALATING,
  issueKeys,
  register,
  runBecomes,
  screenshotDir,
  seriousViolations,
  signedIn,
  startRun,
} from '../support/console-driver.ts';
import type { ConsoleRole, Keys } from '../support/console-driver.ts';
import { api, ROOT, startServer } from '../support/server-process.ts';
import type { ServerProcess } from '../support/server-process.ts';

const BROKERS = (process.env.ORCHESTRON_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
// Topics of this test's own, so the shared broker's other users neither see nor disturb them.
const PREFIX = `console-ops-${process.pid}-${Date.now().toString(36)}.`;

/** One step on worker `records`, which this server lets run one attempt at a time: the rest are held. */
const HELD = { id: 'console-held', version: 1, steps: { fetch: { worker: 'records' } } };

/** One step whose edited input must have a non-empty message (its inputSchema); it waits for an operator on failure. */
const SCHEMA_RETRY = {
  id: 'console-schema-retry',
  version: 1,
  onFailure: 'escalate',
  steps: {
    notify: {
      worker: 'chat',
      inputSchema: {
        type: 'object',
        required: ['message'],
        properties: { message: { type: 'string', minLength: 1 }, simulate: { type: 'object' } },
      },
    },
  },
};

/** Sends raw bytes to one of the server's topics, as a broken or hostile producer would. */
async function publish(topic: string, key: string, value: string): Promise<void> {
  const producer = new Producer({ clientId: `${PREFIX}test`, bootstrapBrokers: BROKERS, retries: 5 });
  try {
    await producer.send({
      messages: [{ topic: `${PREFIX}${topic}`, key: Buffer.from(key), value: Buffer.from(value) }],
    });
  } finally {
    await producer.close();
  }
}

/** The console's operator pages on the Kafka tier (dead letters are Kafka's), in a real Chromium against a real server. */
describe('the web console, operator pages, in Chromium', () => {
  let server: ServerProcess;
  let browser: Browser;
  let keys: Keys;
  let shots: string;
  let dataDir: string;
  const pages: Page[] = [];

  beforeAll(async () => {
    ensureConsoleBuilt(ROOT);
    dataDir = mkdtempSync(join(tmpdir(), 'orchestron-console-ops-'));
    shots = screenshotDir(ROOT, join(dataDir, 'screenshots'));
    mkdirSync(shots, { recursive: true });
    server = await startServer(dataDir, {
      ORCHESTRON_WORK_MS: '200',
      ORCHESTRON_BUS: 'kafka',
      ORCHESTRON_KAFKA_BROKERS: BROKERS.join(','),
      ORCHESTRON_KAFKA_PARTITIONS: '1',
      ORCHESTRON_TOPIC_PREFIX: PREFIX,
      ORCHESTRON_FLOW_CONTROL: JSON.stringify({ workers: { records: { concurrency: 1 } } }),
    });
    keys = await issueKeys(server);
    await register(server, ESCALATING);
    await register(server, HELD);
    await register(server, SCHEMA_RETRY);
    browser = await chromium.launch({ executablePath: ensureChromium(), args: ['--no-sandbox'] });
  }, 120_000);

  // A hung attempt keeps the server's worker busy: it gives up 10 s into the shutdown.
  afterAll(async () => {
    await browser?.close();
    await server?.kill('SIGTERM');
  }, 40_000);

  afterEach(async () => {
    for (const page of pages.splice(0)) await page.context().close();
  });

  const open = async (role: ConsoleRole, path: string): Promise<Page> => {
    const page = await signedIn(browser, server, keys[role], path);
    pages.push(page);
    return page;
  };

  it('lists dead letters with their reason, replays one with a reason, and shows the code of a refused replay', async () => {
    const runId = await startRun(server, ESCALATING.id, { message: 'hi' });
    await runBecomes(server, runId, (r) => r.status === 'completed');
    const forged = { type: 'step.completed', runId, stepId: 'no-such-step', attempt: 1, phase: 'execute', output: {} };
    await publish('orchestron.step.events', runId, JSON.stringify(forged));
    const page = await open('operator', '/health');
    const table = page.locator('table.dlq');
    const letter = table.locator('tbody tr').first();
    await letter.waitFor({ timeout: 30_000 });
    const position = (await letter.getAttribute('data-position')) ?? '';
    await expect(letter.locator('td.reason').textContent()).resolves.toMatch(/no-such-step/);
    await expect(letter.getByRole('link', { name: runId }).count()).resolves.toBe(1);
    expect(await seriousViolations(page)).toEqual([]);
    await page.locator('#dlq-title').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(shots, 'health-dlq.png') });

    await letter.getByRole('button', { name: 'Replay…' }).click();
    await page.getByLabel('Reason (kept beside the dead letter)').fill('consumer fixed');
    await page.getByRole('button', { name: `Replay ${position}` }).click();
    await letter.getByText(/1× \(last by operator:operator-1, .*: consumer fixed\)/).waitFor();
    // The republished report fails again the same way, so it comes back as a second letter.
    await table.and(page.locator('[data-letters="2"]')).waitFor({ timeout: 30_000 });

    await publish('orchestron.step.events', runId, '{not json');
    await table.and(page.locator('[data-letters="3"]')).waitFor({ timeout: 30_000 });
    const binary = table.locator('tbody tr').nth(2);
    await expect(binary.textContent()).resolves.toContain('not replayable here');
    await binary.getByRole('button', { name: 'Replay…' }).click();
    await page.getByRole('button', { name: /^Replay \d+:\d+$/ }).click();
    const refusal = page.getByRole('dialog').getByRole('alert').filter({ hasText: 'Refused' });
    await refusal.waitFor();
    await expect(refusal.textContent()).resolves.toMatch(/^Refused — DLQ\.NOT_REPLAYABLE: /);
  }, 90_000);

  it('disables replay for an auditor, saying why, and shows a producer no health page', async () => {
    // A letter of its own, so the test stands alone.
    const runId = await startRun(server, ESCALATING.id, { message: 'for the auditor' });
    await publish('orchestron.step.events', runId, '{not json either');
    const page = await open('auditor', '/health');
    const replay = page.locator('table.dlq tbody tr').first().getByRole('button', { name: 'Replay…' });
    await replay.waitFor({ timeout: 20_000 });
    await expect(replay.isDisabled()).resolves.toBe(true);
    await expect(replay.getAttribute('title')).resolves.toBe(
      'An auditor key may not replay dead letters: it needs an operator or admin key.',
    );
    const producer = await open('producer', '/health');
    await producer.getByText(/A producer key may not read a run's history/).waitFor();
    await expect(producer.locator('table.dlq').count()).resolves.toBe(0);
  }, 40_000);

  it('verifies a run and the whole log from the audit page: a pass, then a fail at the event changed behind the server', async () => {
    const runId = await startRun(server, ESCALATING.id, { message: 'audit me' });
    await runBecomes(server, runId, (r) => r.status === 'completed');
    const events = (await api<{ events: { position: number }[] }>(server, 'GET', `/v1/runs/${runId}/events`)).body
      .events;
    const victim = events[1]?.position ?? 0;
    for (let i = 0; i < 100; i++) {
      const { body } = await api<{ checkpoint?: { treeSize: number } }>(server, 'GET', '/v1/audit/checkpoint');
      if ((body.checkpoint?.treeSize ?? 0) >= (events.at(-1)?.position ?? 0)) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const page = await open('auditor', '/audit');
    await page.getByLabel('run').fill(runId);
    await page.getByRole('button', { name: 'Verify this run' }).click();
    const verdict = page.getByRole('status').locator('.verdict');
    await verdict.and(page.locator('[data-ok="true"]')).waitFor();
    await expect(verdict.textContent()).resolves.toMatch(/^Passed — Verified \d+ events in 1 stream/);
    await page.getByLabel('run').fill('');
    await page.getByRole('button', { name: 'Verify the whole log' }).click();
    await page.getByRole('alert').filter({ hasText: 'Refused — AUTH.FORBIDDEN' }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);

    const db = new Database(join(dataDir, 'events.sqlite'));
    try {
      db.prepare('UPDATE events SET data = ? WHERE position = ?').run('{"forged":true}', victim);
    } finally {
      db.close();
    }
    await page.getByLabel('run').fill(runId);
    await page.getByRole('button', { name: 'Verify this run' }).click();
    await verdict.and(page.locator('[data-ok="false"]')).waitFor();
    await expect(verdict.textContent()).resolves.toContain(`Failed — FAILED at position ${victim} `);
    await expect(verdict.textContent()).resolves.toContain('it was altered');
    const admin = await open('admin', '/audit');
    await admin.getByRole('button', { name: 'Verify the whole log' }).click();
    const whole = admin.getByRole('status').locator('.verdict[data-ok="false"]');
    await whole.waitFor({ timeout: 20_000 });
    await expect(whole.textContent()).resolves.toContain(`FAILED at position ${victim} `);
    await admin.getByRole('button', { name: 'Dark theme' }).click();
    expect(await seriousViolations(admin)).toEqual([]);
    await admin.screenshot({ path: join(shots, 'audit-verify.png') });
  }, 60_000);

  it('lists steps held by flow control in the inbox, with the worker and the reason', async () => {
    const out = await startRun(server, HELD.id, { patientId: 'p-1', simulate: { fetch: 'hang' } });
    await runBecomes(server, out, (r) => r.steps.some((st) => st.status === 'running'));
    const first = await startRun(server, HELD.id, { patientId: 'p-2' });
    const second = await startRun(server, HELD.id, { patientId: 'p-3' });
    const page = await open('operator', '/inbox');
    for (const runId of [first, second]) {
      const item = page.locator(`.inbox li[data-kind="held"][data-run="${runId}"]`);
      await item.waitFor({ timeout: 20_000 });
      await expect(item.textContent()).resolves.toContain(
        'step fetch · held by flow control: concurrency limit (worker records)',
      );
    }
    await expect(page.locator(`.inbox li[data-kind="held"][data-run="${out}"]`).count()).resolves.toBe(0);
    await page.getByRole('link', { name: first }).focus();
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: join(shots, 'inbox-held.png') });
    await page.getByRole('button', { name: 'Dark theme' }).click();
    expect(await seriousViolations(page)).toEqual([]);
    await api(server, 'POST', `/v1/runs/${first}/actions/cancel`, { reason: 'test over' });
    await page.locator(`.inbox li[data-kind="held"][data-run="${first}"]`).waitFor({ state: 'detached' });
    for (const runId of [out, second])
      await api(server, 'POST', `/v1/runs/${runId}/actions/cancel`, { reason: 'test over' });
  }, 60_000);

  it("checks a retry's edited input against the step's inputSchema before sending it", async () => {
    const runId = await startRun(server, SCHEMA_RETRY.id, { message: 'hi', simulate: { notify: 'fail-terminal' } });
    await runBecomes(server, runId, (r) => r.status === 'needs_operator');
    const page = await open('operator', `/runs/${runId}`);
    await page.getByRole('button', { name: 'notify', exact: true }).click();
    await page.getByRole('button', { name: 'Retry…' }).click();
    const input = page.getByLabel('Input (JSON)');
    await input.fill(JSON.stringify({ message: '', simulate: {} }));
    const problem = page.getByRole('dialog').getByRole('alert');
    await expect(problem.textContent()).resolves.toBe(
      "does not match the step's inputSchema: /input/message: must NOT have fewer than 1 characters",
    );
    await expect(page.getByRole('button', { name: 'Retry notify' }).isDisabled()).resolves.toBe(true);
    await input.fill(JSON.stringify({ simulate: {} }));
    await expect(problem.textContent()).resolves.toContain('/input/message: missing required field "message"');
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: join(shots, 'retry-schema.png') });
    await input.fill(JSON.stringify({ message: 'hello again', simulate: {} }));
    await page.getByLabel("Reason (kept in the run's history)").fill('a message this time');
    await page.getByRole('button', { name: 'Retry notify' }).click();
    await runBecomes(server, runId, (r) => r.status === 'completed');
    await page.locator('h1 .chip.status-completed').waitFor();
  }, 60_000);
});
