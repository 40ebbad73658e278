import { UsageError } from '../cli.errors.ts';
import { table } from '../format.ts';
import { parseJsonOption } from '../json-option.ts';
import { printJson } from '../output.ts';
import type { CliContext } from '../cli.context.ts';
import type { CreateScheduleRequest, ScheduleView } from '../schedule.types.ts';
import type { Command } from 'commander';

interface CreateOptions {
  readonly definition: string;
  readonly definitionVersion?: string;
  readonly cron: string;
  readonly tz: string;
  readonly input?: string;
  readonly overlap?: string;
  readonly catchUp?: string;
  readonly maxCatchUp?: string;
  readonly tenant?: string;
  readonly json?: boolean;
}

interface TenantOptions {
  readonly tenant?: string;
  readonly json?: boolean;
  readonly reason?: string;
}

const HELP = `
A schedule starts a run of a definition on a cron rule read in an IANA time zone. Each fire starts one run, with
the idempotency key schedule:<id>:<fire time>, so a fire never starts two runs, across restarts and instances.

Cron: 5 fields (minute hour day-of-month month day-of-week), 6 with seconds first, or @hourly, @daily, @weekly…
  "0 9 * * 1-5"   09:00 on weekdays        "*/15 * * * *"  every 15 minutes      "* * * * * *"  every second

Examples:
  $ orchestron schedule create nightly-report --definition report --cron "0 2 * * *" --tz Europe/Paris \\
      --input '{"region":"eu"}' --overlap skip --catch-up latest
  $ orchestron schedule list
  $ orchestron schedule pause nightly-report --reason "month-end freeze"
  $ orchestron schedule resume nightly-report
  $ orchestron schedule delete nightly-report

create, pause, resume and delete need an operator or admin key; list needs any key but a worker's. A key sees its
own tenant's schedules; an admin names another with --tenant. See docs/schedules.md.
`;

const CREATE_HELP = `
--overlap: what a fire does while the run of the fire before it is still running:
  skip (default)  no run for this fire     buffer_one  one fire waits, and runs when that run ends     allow  run anyway
--catch-up: the fires missed while no orchestrator ran the schedule (a restart, an outage):
  none  skipped      latest (default)  one run, for the newest missed fire      all  each one, at most --max-catch-up
  (default 10, at most 100), oldest first; older ones are skipped
A fire noticed within 10 s of its time is on time, not missed.
`;

export function registerScheduleCommand(program: Command, ctx: CliContext): void {
  const schedule = program
    .command('schedule')
    .description('create, list, pause, resume and delete schedules: runs started on a cron rule')
    .addHelpText('after', HELP);
  registerCreate(schedule, ctx);
  schedule
    .command('list')
    .description('the schedules: paused or not, next fire, last fire and the run it started')
    .option('--tenant <tenant>', "admin only: one tenant's (default: every tenant for an admin, else your own)")
    .option('--json', 'print the schedules as one line of JSON')
    .action(async (options: TenantOptions, cmd: Command) => {
      const { schedules } = await ctx.client(cmd).listSchedules(options.tenant);
      if (options.json) printJson(ctx.io, schedules);
      else for (const line of describeList(schedules)) ctx.io.out(line);
      ctx.finish({ kind: 'succeeded' });
    });
  for (const change of ['pause', 'resume'] as const) {
    const sub = schedule
      .command(change)
      .description(
        change === 'pause' ? 'stop its fires until resumed' : 'fire again from now on (no catch-up of the paused time)',
      )
      .argument('<id>', 'the schedule id');
    if (change === 'pause') sub.option('--reason <text>', 'why, recorded with the pause');
    sub
      .option('--tenant <tenant>', "admin only: another tenant's schedule")
      .option('--json', 'print the schedule as one line of JSON')
      .action(async (id: string, options: TenantOptions, cmd: Command) => {
        const answer = await ctx.client(cmd).changeSchedule(id, change, options.tenant, options.reason);
        show(ctx, answer.schedule, options.json, change === 'pause' ? 'paused' : 'resumed');
      });
  }
  schedule
    .command('delete')
    .description('delete a schedule: no more fires; the runs it started stay')
    .argument('<id>', 'the schedule id')
    .option('--tenant <tenant>', "admin only: another tenant's schedule")
    .option('--json', 'print the answer as one line of JSON')
    .action(async (id: string, options: TenantOptions, cmd: Command) => {
      const { deleted } = await ctx.client(cmd).deleteSchedule(id, options.tenant);
      if (options.json) printJson(ctx.io, deleted);
      else ctx.io.out(`schedule ${deleted.id} (tenant ${deleted.tenant}) deleted`);
      ctx.finish({ kind: 'succeeded' });
    });
}

function registerCreate(schedule: Command, ctx: CliContext): void {
  schedule
    .command('create')
    .description('create a schedule (POST /v1/schedules)')
    .argument('<id>', 'a name unique in your tenant: 1 to 64 of a-z, 0-9, ".", "_", "-"')
    .requiredOption('--definition <id>', 'the definition each fire starts a run of')
    .option('--definition-version <n>', 'pin a version (default: the latest at each fire)')
    .requiredOption('--cron <expr>', 'when it fires, e.g. "0 9 * * 1-5" (quote it)')
    .requiredOption('--tz <zone>', 'the IANA time zone the cron fields are read in: Europe/Paris, UTC')
    .option('-i, --input <json|@file>', 'the input of every run it starts: JSON text or @path (default null)')
    .option('--overlap <policy>', 'skip | buffer_one | allow (default skip)')
    .option('--catch-up <policy>', 'none | latest | all (default latest)')
    .option('--max-catch-up <n>', 'with --catch-up all: at most this many missed fires (1 to 100, default 10)')
    .option('--tenant <tenant>', 'admin only: create it in another tenant')
    .option('--json', 'print the schedule as one line of JSON')
    .addHelpText('after', CREATE_HELP)
    .action(async (id: string, options: CreateOptions, cmd: Command) => {
      const answer = await ctx.client(cmd).createSchedule(requestOf(id, options, ctx.cwd));
      show(ctx, answer.schedule, options.json, 'created');
    });
}

function requestOf(id: string, options: CreateOptions, cwd: string): CreateScheduleRequest {
  return {
    id,
    definitionId: options.definition,
    cron: options.cron,
    timezone: options.tz,
    ...(options.definitionVersion !== undefined
      ? { definitionVersion: integer(options.definitionVersion, '--definition-version') }
      : {}),
    ...(options.input !== undefined ? { input: parseJsonOption(options.input, '--input', cwd) } : {}),
    ...(options.overlap !== undefined ? { overlap: options.overlap } : {}),
    ...(options.catchUp !== undefined ? { catchUp: options.catchUp } : {}),
    ...(options.maxCatchUp !== undefined ? { maxCatchUp: integer(options.maxCatchUp, '--max-catch-up') } : {}),
    ...(options.tenant !== undefined ? { tenant: options.tenant } : {}),
  };
}

function integer(value: string, option: string): number {
  if (!/^\d{1,9}$/.test(value))
    throw new UsageError(`${option} must be a positive integer; got ${JSON.stringify(value)}`);
  return Number(value);
}

function show(ctx: CliContext, schedule: ScheduleView, json: boolean | undefined, what: string): void {
  if (json) printJson(ctx.io, schedule);
  else
    ctx.io.out(
      `schedule ${schedule.id} ${what}: ${schedule.cron} (${schedule.timezone}) starts ${schedule.definitionId}; ` +
        (schedule.status === 'paused' ? 'paused' : `next fire ${schedule.nextFireAt ?? '-'}`),
    );
  ctx.finish({ kind: 'succeeded' });
}

/** One row a schedule: the columns an operator checks (is it on, when next, did the last fire start its run). */
export function describeList(schedules: readonly ScheduleView[]): string[] {
  if (schedules.length === 0) return ['no schedules'];
  const tenants = new Set(schedules.map((s) => s.tenant)).size > 1;
  const rows = schedules.map((s) => [
    ...(tenants ? [s.tenant] : []),
    s.id,
    s.status,
    `${s.cron} ${s.timezone}`,
    s.definitionId + (s.definitionVersion !== null ? ` v${s.definitionVersion}` : ''),
    s.nextFireAt ?? '-',
    s.lastFire?.fireAt ?? '-',
    s.lastFire ? (s.lastFire.failed ? `not started: ${s.lastFire.failed.code}` : s.lastFire.runId) : '-',
    `${s.overlap}/${s.catchUp}`,
  ]);
  const headers = ['ID', 'STATUS', 'CRON', 'DEFINITION', 'NEXT FIRE', 'LAST FIRE', 'LAST RUN', 'OVERLAP/CATCH-UP'];
  return table(tenants ? ['TENANT', ...headers] : headers, rows);
}
