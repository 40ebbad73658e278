// What the console's browser tests share: the server's keys and definitions, signing in, axe, screenshots, timings.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { api } from './server-process.ts';
import type { ServerProcess } from './server-process.ts';

/** Builds the console when `npm ci` has not (a checkout whose node_modules came before apps/console). */
export function ensureConsoleBuilt(root: string): void {
  if (existsSync(join(root, 'apps/console/dist/index.html'))) return;
  const built = spawnSync('npm', ['run', 'console:build'], { cwd: root, stdio: 'inherit' });
  if (built.status !== 0) throw new Error('the console is not built and `npm run console:build` failed');
}

export type ConsoleRole = 'producer' | 'operator' | 'auditor' | 'admin';
export type Keys = Readonly<Record<ConsoleRole, string>>;

/** Issues a key per role (the operator holds group finance, so it may decide onboarding's budget gate). */
export async function issueKeys(server: ServerProcess): Promise<Keys> {
  const issue = async (role: ConsoleRole, groups: string[] = []): Promise<string> => {
    const answer = await api<{ token: string }>(server, 'POST', '/v1/keys', { role, subject: `${role}-1`, groups });
    if (answer.status !== 201) throw new Error(`could not issue a ${role} key: ${JSON.stringify(answer.body)}`);
    return answer.body.token;
  };
  return {
    admin: server.key,
    operator: await issue('operator', ['finance']),
    auditor: await issue('auditor'),
    producer: await issue('producer'),
  };
}

/** A chain of `n` steps, each needing the one before: the 500-step deep definition of the issue's quality bar. */
export function deepChain(n: number): Record<string, unknown> {
  const id = (i: number): string => `s${String(i).padStart(3, '0')}`;
  const steps: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) steps[id(i)] = { worker: 'chat', ...(i > 0 ? { needs: [id(i - 1)] } : {}) };
  return { id: `deep-${n}`, version: 1, name: `A ${n}-step chain`, steps };
}

/** `n` steps side by side, then one that needs them all: the 2,000-wide definition of the issue's quality bar. */
export function wideFanOut(n: number): Record<string, unknown> {
  const id = (i: number): string => `f${String(i).padStart(4, '0')}`;
  const steps: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) steps[id(i)] = { worker: 'chat' };
  steps.join = { worker: 'chat', needs: Array.from({ length: n }, (_, i) => id(i)) };
  return { id: `wide-${n}`, version: 1, name: `${n} steps side by side, then a join`, steps };
}

/** A run that ends at once (its one gate is skipped by `when`): many of them fill the run list cheaply. */
export const BULK = { id: 'console-bulk', version: 1, steps: { noop: { type: 'approval', when: '${{ false }}' } } };

/** One step that waits for an operator when it fails (onFailure: escalate); it takes the run's input. */
export const ESCALATING = {
  id: 'console-retry',
  version: 1,
  onFailure: 'escalate',
  steps: { notify: { worker: 'chat' } },
};

export async function register(server: ServerProcess, definition: unknown): Promise<void> {
  const answer = await api(server, 'POST', '/v1/definitions', definition);
  if (answer.status !== 201 && answer.status !== 200)
    throw new Error(`could not register a definition: ${JSON.stringify(answer.body)}`);
}

export async function startRun(server: ServerProcess, definitionId: string, input: unknown): Promise<string> {
  const answer = await api<{ run: { id: string } }>(server, 'POST', '/v1/runs', { definitionId, input });
  if (answer.status !== 201) throw new Error(`could not start ${definitionId}: ${JSON.stringify(answer.body)}`);
  return answer.body.run.id;
}

/** Starts `count` runs, `parallel` at a time. */
export async function startMany(server: ServerProcess, definitionId: string, count: number, parallel = 16) {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      next += 1;
      await startRun(server, definitionId, {});
    }
  };
  await Promise.all(Array.from({ length: parallel }, lane));
}

/** Waits until `count` runs have completed, so the pages under test do not refresh through a burst of events. */
export async function allCompleted(server: ServerProcess, count: number): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const { body } = await api<{ runs: unknown[] }>(server, 'GET', `/v1/runs?status=completed&limit=${count}`);
    if (body.runs.length >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${count} runs did not complete in 60 s`);
}

/** Polls the API until `check` holds for the run. */
export async function runBecomes(server: ServerProcess, runId: string, check: (run: RunJson) => boolean) {
  for (let i = 0; i < 300; i++) {
    const { body } = await api<{ run: RunJson }>(server, 'GET', `/v1/runs/${runId}`);
    if (check(body.run)) return body.run;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`run ${runId} did not get there`);
}

export interface RunJson {
  readonly status: string;
  readonly steps: readonly { id: string; status: string; input: unknown; attempt: number }[];
}

/** A page signed in with `key`, at `path` of the console. */
export async function signedIn(browser: Browser, server: ServerProcess, key: string, path = '/runs'): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, colorScheme: 'light' });
  const page = await context.newPage();
  await page.goto(`${server.url}/console${path}`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('.who').waitFor();
  return page;
}

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly nodes: readonly { target: readonly string[] }[];
}

/** The serious and critical WCAG 2 A/AA violations axe-core finds on the page as it is. */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  await page.addScriptTag({ content: AXE });
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(o: unknown): Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run({ runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return result.violations;
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Where screenshots go: docs/console with ORCHESTRON_CONSOLE_SCREENSHOTS=1 (to refresh the docs), else a temp dir. */
export function screenshotDir(root: string, scratch: string): string {
  return process.env.ORCHESTRON_CONSOLE_SCREENSHOTS === '1' ? join(root, 'docs/console') : scratch;
}

/** A render time the console measured in the browser (window.orchestronTimings), waited for. */
export async function timing(page: Page, name: string): Promise<number> {
  const handle = await page.waitForFunction(
    (n) => (globalThis as { orchestronTimings?: Record<string, number> }).orchestronTimings?.[n],
    name,
  );
  return Number(await handle.jsonValue());
}
