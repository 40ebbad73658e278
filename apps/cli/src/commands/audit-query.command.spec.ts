import { describe, expect, it } from '@jest/globals';
import { Command } from 'commander';
import type { AuditEventView, AuditEventsPage } from '../audit-event.types.ts';
import { createContext } from '../cli.context.ts';
import type { Outcome } from '../exit-codes.ts';
import { addAuditQueryCommand } from './audit-query.command.ts';

const anEvent = (position: number, overrides: Partial<AuditEventView> = {}): AuditEventView => ({
  position,
  runId: 'run-1',
  revision: position - 1,
  type: 'StepApproved',
  data: { stepId: 'budget-approval', by: 'operator:ann' },
  metadata: {},
  recordedAt: '2025-06-01T10:00:00.000Z',
  id: `e-${position}`,
  tenant: 'acme',
  definitionId: 'employee-onboarding',
  actor: 'operator:ann',
  stepId: 'budget-approval',
  policyId: null,
  ...overrides,
});

/** `orchestron audit query` against a server that answers `pages` in turn, each after the cursor of the one before. */
async function run(args: string[], pages: AuditEventsPage[]) {
  const out: string[] = [];
  const urls: URL[] = [];
  let outcome: Outcome | undefined;
  const ctx = createContext(
    {
      io: { out: (l) => out.push(l), err: (l) => out.push(`err: ${l}`), colour: false },
      env: { ORCHESTRON_API_KEY: 'k-1', ORCHESTRON_URL: 'http://orchestron.test' },
      cwd: '/',
      now: () => 0,
      sleep: async () => undefined,
      fetch: async (url) => {
        urls.push(new URL(url));
        const cursor = new URL(url).searchParams.get('cursor');
        const page = pages[cursor === null ? 0 : Number(cursor)];
        return new Response(JSON.stringify(page), { status: 200 });
      },
    },
    (o) => (outcome = o),
  );
  const program = new Command().exitOverride();
  addAuditQueryCommand(program.command('audit'), ctx);
  let error: unknown;
  await program.parseAsync(['audit', 'query', ...args], { from: 'user' }).catch((e: unknown) => (error = e));
  return { out, urls, outcome, error };
}

describe('orchestron audit query', () => {
  it('sends every filter and prints a table of one page, saying when more match', async () => {
    const { out, urls, outcome } = await run(
      ['--actor', 'operator:ann', '--type', 'StepApproved', '--step', 'budget-approval', '--since', '2025-06-01'],
      [{ events: [anEvent(7)], next_cursor: '1' }],
    );
    expect(urls).toHaveLength(1);
    expect(Object.fromEntries(urls[0]!.searchParams)).toEqual({
      actor: 'operator:ann',
      type: 'StepApproved',
      step: 'budget-approval',
      since: '2025-06-01',
    });
    expect(urls[0]!.pathname).toBe('/v1/audit/events');
    expect(out[0]).toMatch(/^POSITION\s+RECORDED AT\s+RUN\s+TYPE\s+STEP\s+ACTOR\s+POLICY/);
    expect(out[1]).toMatch(/^7\s+2025-06-01T10:00:00.000Z\s+run-1\s+StepApproved\s+budget-approval\s+operator:ann\s+-/);
    expect(out.at(-1)).toMatch(/more events match: add --all/);
    expect(outcome).toEqual({ kind: 'succeeded' });
  });

  it('follows the cursor to the end with --all and prints NDJSON with --json', async () => {
    const pages = [
      { events: [anEvent(1), anEvent(2)], next_cursor: '1' },
      { events: [anEvent(5, { type: 'GovernanceDecided', policyId: 'baseline-allow' })], next_cursor: '2' },
      { events: [], next_cursor: null },
    ];
    const { out, urls } = await run(['--policy', 'baseline-allow', '--limit', '2', '--all', '--json'], pages);
    expect(urls.map((u) => u.searchParams.get('cursor'))).toEqual([null, '1', '2']);
    expect(
      urls.every((u) => u.searchParams.get('policy') === 'baseline-allow' && u.searchParams.get('limit') === '2'),
    ).toBe(true);
    expect(out.map((line) => (JSON.parse(line) as AuditEventView).position)).toEqual([1, 2, 5]);
  });

  it('says so when nothing matches', async () => {
    const { out } = await run(['--run', 'nope'], [{ events: [], next_cursor: null }]);
    expect(out).toEqual(['no events match']);
  });

  it('refuses a bad --limit, --since or --until before calling the server, naming the option', async () => {
    for (const [args, option] of [
      [['--limit', '0'], '--limit'],
      [['--limit', '1001'], '--limit'],
      [['--since', 'yesterday'], '--since'],
      [['--until', '2025-06-01T10:00:00'], '--until'],
    ] as const) {
      const { urls, error } = await run([...args], []);
      expect(urls).toEqual([]);
      expect((error as Error).message).toContain(option);
    }
  });

  it('explains itself in --help, with examples', async () => {
    const program = new Command().exitOverride();
    const audit = program.command('audit');
    addAuditQueryCommand(
      audit,
      createContext({} as never, () => undefined),
    );
    const help = audit.commands.find((c) => c.name() === 'query')!.helpInformation();
    for (const option of [
      '--run',
      '--definition',
      '--actor',
      '--type',
      '--step',
      '--policy',
      '--since',
      '--until',
      '--limit',
      '--all',
      '--json',
    ])
      expect(help).toContain(option);
  });
});
