import { UsageError } from '../cli.errors.ts';
import { parseJsonOption } from '../json-option.ts';
import { printJson } from '../output.ts';
import { runViewLines } from '../run.view.ts';
import type { ForkRequest } from '../api.types.ts';
import type { CliContext } from '../cli.context.ts';
import type { Command } from 'commander';

interface ForkOptions {
  readonly at: string;
  readonly input?: string;
  readonly reason?: string;
  readonly json?: boolean;
}

const HELP = `
Examples:
  $ orchestron inspect "$RUN" --at 7                      # see the run as it was at revision 7
  $ orchestron fork "$RUN" --at 7 --reason "what if the vendor had answered"
  $ orchestron fork "$RUN" --at 7 --input '{"email":"b@c.d"}' --reason "typo in the email"
  $ orchestron fork "$RUN" --at 7 --input @input.json --json

The fork is a new run with a new id, in the parent's tenant, with the parent's pinned definition and input (or
--input, checked against the definition's input schema). The steps completed or skipped by that revision start
done with the parent's outputs and are not run again; everything else runs as in a fresh run, governance checks
included. The fork's view shows where it comes from; the parent is unchanged. Needs an operator or admin key.

Exits 0 once the fork has started; 2 if --at is past the parent's newest revision, the input does not match the
schema, or the run does not exist.
`;

export function registerForkCommand(program: Command, ctx: CliContext): void {
  program
    .command('fork')
    .description("start a new run from a run's state at a revision (what-if repair); the parent is unchanged")
    .argument('<runId>', 'the run to fork')
    .requiredOption('--at <revision>', "the revision of the run's history to start from (0 is its first event)")
    .option(
      '-i, --input <json|@file>',
      "the fork's run input: JSON text, or @path to a JSON file (default: the parent's)",
    )
    .option('--reason <text>', "why; recorded on the fork's first event with your identity")
    .option('--json', 'print the new run as one line of JSON')
    .addHelpText('after', HELP)
    .action(async (runId: string, options: ForkOptions, cmd: Command) => {
      const request: ForkRequest = {
        at: revisionOf(options.at),
        ...(options.input !== undefined ? { input: parseJsonOption(options.input, '--input', ctx.cwd) } : {}),
        ...(options.reason !== undefined ? { reason: options.reason } : {}),
      };
      const { run, agent_contract, accepted } = await ctx.client(cmd).forkRun(runId, request);
      if (options.json) printJson(ctx.io, run);
      else if (accepted !== undefined)
        ctx.io.out(
          `fork of ${runId} at revision ${request.at}: accepted as run ${accepted.runId}; it starts when an orchestrator takes it (orchestron status ${accepted.runId})`,
        );
      else {
        ctx.io.out(`fork of ${runId} at revision ${request.at}: started run ${run.id}, now ${run.status}`);
        ctx.io.out('');
        for (const line of runViewLines(run, agent_contract, ctx.io.colour)) ctx.io.out(line);
      }
      ctx.finish(accepted !== undefined ? { kind: 'succeeded' } : { kind: 'run', status: run.status });
    });
}

function revisionOf(text: string): number {
  if (!/^\d{1,15}$/.test(text))
    throw new UsageError(
      `--at must be a revision of the run: an integer from 0 (its first event), not ${JSON.stringify(text)}`,
    );
  return Number(text);
}
