import { UsageError } from '../cli.errors.ts';
import { brief, table } from '../format.ts';
import type { AuditEventView, AuditSearchQuery } from '../audit-event.types.ts';
import type { CliContext } from '../cli.context.ts';
import type { Command } from 'commander';

interface QueryOptions {
  readonly run?: string;
  readonly definition?: string;
  readonly actor?: string;
  readonly type?: string;
  readonly step?: string;
  readonly policy?: string;
  readonly since?: string;
  readonly until?: string;
  readonly tenant?: string;
  readonly limit?: string;
  readonly all?: boolean;
  readonly json?: boolean;
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

const HELP = `
Searches the events of every run of your tenant (an admin key: every tenant's, or --tenant), oldest
first, from the server's audit index. Filters narrow together. ACTOR is who acted, as events record it:
role:subject (operator:ann); the events an operator's command caused carry its actor too. --since is
inclusive, --until exclusive (ISO-8601, e.g. 2025-06-01 or 2025-06-01T10:00:00Z).

A page holds --limit events (default 100); --all follows the server's cursor to the end.

Examples:
  $ orchestron audit query --actor operator:ann --type StepApproved
  $ orchestron audit query --run 3f9a0c12-… --all --json > run.ndjson
  $ orchestron audit query --policy contractor-needs-approval --since 2025-06-01 --until 2025-07-01
  $ orchestron audit query --step create-account --limit 20
`;

function limitOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const limit = Number(text);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1_000)
    throw new UsageError(`--limit must be an integer from 1 to 1000; got ${JSON.stringify(text.slice(0, 40))}`);
  return limit;
}

function instantOf(text: string | undefined, option: string): string | undefined {
  if (text === undefined) return undefined;
  if (!ISO_INSTANT.test(text) || !Number.isFinite(Date.parse(text)))
    throw new UsageError(
      `${option} must be an ISO-8601 date or date-time with a zone (2025-06-01, 2025-06-01T10:00:00Z); got ${JSON.stringify(text.slice(0, 40))}`,
    );
  return text;
}

function queryOf(options: QueryOptions): AuditSearchQuery {
  const fields: AuditSearchQuery = {
    run: options.run,
    definition: options.definition,
    actor: options.actor,
    type: options.type,
    step: options.step,
    policy: options.policy,
    since: instantOf(options.since, '--since'),
    until: instantOf(options.until, '--until'),
    tenant: options.tenant,
    limit: limitOf(options.limit),
  };
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}

function rows(events: readonly AuditEventView[]): string[] {
  return table(
    ['POSITION', 'RECORDED AT', 'RUN', 'TYPE', 'STEP', 'ACTOR', 'POLICY'],
    events.map((e) => [
      String(e.position),
      e.recordedAt,
      e.runId,
      e.type,
      e.stepId ?? '-',
      brief(e.actor ?? '-', 40),
      e.policyId ?? '-',
    ]),
  );
}

/** Adds `query` to the `audit` command: audit search across runs (docs/audit.md, "Audit search"). */
export function addAuditQueryCommand(audit: Command, ctx: CliContext): void {
  audit
    .command('query')
    .description('search the events of every run by run, definition, actor, type, step, policy and time')
    .option('--run <id>', "one run's events")
    .option('--definition <id>', "the events of a definition's runs")
    .option('--actor <actor>', 'who acted, as role:subject (operator:ann)')
    .option('--type <type>', 'one event type (StepApproved, GovernanceDecided, …)')
    .option('--step <id>', "one step's events")
    .option('--policy <id>', 'the governance decisions a policy took')
    .option('--since <instant>', 'recorded at or after (ISO-8601)')
    .option('--until <instant>', 'recorded before (ISO-8601)')
    .option('--tenant <tenant>', "admin only: one tenant's events")
    .option('--limit <n>', 'events per page (1 to 1000, default 100)')
    .option('--all', 'follow the cursor to the last page')
    .option('--json', 'print each event as one line of JSON (NDJSON)')
    .addHelpText('after', HELP)
    .action(async (options: QueryOptions, command: Command) => {
      const query = queryOf(options);
      const client = ctx.client(command);
      // NDJSON streams page by page; a table is printed once, so its columns line up across pages.
      const shown: AuditEventView[] = [];
      let cursor: string | null = null;
      do {
        const page = await client.searchAuditEvents(cursor === null ? query : { ...query, cursor });
        if (options.json) for (const event of page.events) ctx.io.out(JSON.stringify(event));
        else shown.push(...page.events);
        cursor = page.next_cursor;
      } while (options.all && cursor !== null);
      if (!options.json) {
        for (const line of shown.length === 0 ? ['no events match'] : rows(shown)) ctx.io.out(line);
        if (cursor !== null) ctx.io.out('more events match: add --all, or narrow the search');
      }
      ctx.finish({ kind: 'succeeded' });
    });
}
