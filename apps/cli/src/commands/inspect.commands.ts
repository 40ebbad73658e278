import { brief, table } from '../format.ts';
import { historyLines } from '../history.format.ts';
import { parseIntegerOption } from '../json-option.ts';
import { printJson } from '../output.ts';
import { runViewLines } from '../run.view.ts';
import type { CliContext } from '../cli.context.ts';
import type { Command } from 'commander';

type JsonOption = { readonly json?: boolean };

export function registerInspectCommands(program: Command, ctx: CliContext): void {
  program
    .command('status')
    .description("show a run's status and a table of its steps")
    .argument('<runId>', 'the run')
    .option('--json', 'print the run as one line of JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ orchestron status 0197c9a2-4f1e-7c3b-9a51-2b0d6f3e8a10
  $ orchestron status "$RUN" --json | jq '.steps[] | select(.status == "failed")'

Exits 0 while the run is moving or completed, 1 if it failed, was compensated or cancelled, 3 if it needs an operator.
`,
    )
    .action(async (runId: string, options: JsonOption, command: Command) => {
      const { run, agent_contract } = await ctx.client(command).getRun(runId);
      if (options.json) printJson(ctx.io, run);
      else for (const line of runViewLines(run, agent_contract, ctx.io.colour)) ctx.io.out(line);
      ctx.finish({ kind: 'run', status: run.status });
    });

  program
    .command('inspect')
    .description('show a run as it was at an earlier point of its history: after a revision, or at a time')
    .argument('<runId>', 'the run')
    .requiredOption('--at <revision|time>', 'a revision (0 is the first event; see `history`) or an ISO 8601 time')
    .option('--json', 'print {"run":…,"at":…} as one line of JSON')
    .addHelpText(
      'after',
      `
The run is the fold of its events up to that point (nothing is changed); the header names the event it stops at
and how far back that is. Needs an operator, auditor or admin key, as the history does.

Examples:
  $ orchestron inspect "$RUN" --at 3
  $ orchestron inspect "$RUN" --at 2026-12-06T10:00:00Z
  $ orchestron inspect "$RUN" --at 5 --json | jq '.run.steps[] | {id, status}'
`,
    )
    .action(async (runId: string, options: JsonOption & { at: string }, command: Command) => {
      const { run, at } = await ctx.client(command).getRunAt(runId, options.at);
      if (options.json) printJson(ctx.io, { run, at });
      else {
        const back = at.latestRevision - at.revision;
        ctx.io.out(
          `As of revision ${at.revision} of ${at.latestRevision} (${at.eventType}, recorded ${at.recordedAt})` +
            (back === 0 ? ': the newest' : `: ${back} event${back === 1 ? '' : 's'} before now`),
        );
        ctx.io.out('');
        for (const line of runViewLines(run, null, ctx.io.colour, { past: true })) ctx.io.out(line);
      }
      ctx.finish({ kind: 'succeeded' });
    });

  program
    .command('list')
    .description('list runs, newest first')
    .option(
      '--status <status>',
      'only runs in this status (running, paused, needs_operator, compensating, completed, failed, compensated, cancelled)',
    )
    .option('--definition <id>', 'only runs of this definition')
    .option('--limit <n>', 'at most this many runs')
    .option('--json', 'print {"runs":[…]} as one line of JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ orchestron list
  $ orchestron list --status needs_operator
  $ orchestron list --definition employee-onboarding --limit 5 --json
`,
    )
    .action(
      async (options: { status?: string; definition?: string; limit?: string; json?: boolean }, command: Command) => {
        const limit = options.limit === undefined ? undefined : parseIntegerOption(options.limit, '--limit', 1);
        const { runs } = await ctx
          .client(command)
          .listRuns({ status: options.status, definition: options.definition, limit });
        if (options.json) {
          printJson(ctx.io, { runs });
        } else if (runs.length === 0) {
          ctx.io.out('no runs');
        } else {
          const rows = runs.map((r) => [
            r.id,
            `${r.definitionId} v${r.definitionVersion}`,
            r.status,
            r.updatedAt,
            r.attention ? brief(`${r.attention.code}: ${r.attention.message}`, 60) : '',
          ]);
          for (const line of table(['RUN', 'DEFINITION', 'STATUS', 'UPDATED', 'ATTENTION'], rows)) ctx.io.out(line);
        }
        ctx.finish({ kind: 'succeeded' });
      },
    );

  program
    .command('history')
    .description("print a run's events, one line each: revision, time, type and what happened")
    .argument('<runId>', 'the run')
    .option('--json', 'print {"events":[…]} as one line of JSON')
    .addHelpText(
      'after',
      `
Governance decisions show their outcome, policy and reason; failures their code and message; operator
actions who did them and why.

Examples:
  $ orchestron history "$RUN"
  $ orchestron history "$RUN" | grep -E 'Governance|Failed'
  $ orchestron history "$RUN" --json | jq '.events[] | select(.type == "GovernanceDecided").data'
`,
    )
    .action(async (runId: string, options: JsonOption, command: Command) => {
      const { events } = await ctx.client(command).getEvents(runId);
      if (options.json) printJson(ctx.io, { events });
      else for (const line of historyLines(events)) ctx.io.out(line);
      ctx.finish({ kind: 'succeeded' });
    });
}
