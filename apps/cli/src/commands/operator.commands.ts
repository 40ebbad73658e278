import { parseJsonOption } from '../json-option.ts';
import { printJson } from '../output.ts';
import { runViewLines } from '../run.view.ts';
import type { ActionRequest, OperatorAction } from '../api.types.ts';
import type { CliContext } from '../cli.context.ts';
import type { Command } from 'commander';

interface ActionSpec {
  readonly description: string;
  /** Whether the action targets one step (`--step` required) or the whole run. */
  readonly step: boolean;
  /** The step's option when it is not `--step`. */
  readonly stepFlag?: 'from';
  readonly reasonRequired?: boolean;
  readonly input?: boolean;
  readonly output?: boolean;
  readonly examples: readonly string[];
}

const SPECS: Readonly<Record<OperatorAction, ActionSpec>> = {
  approve: {
    description:
      'approve a step that waits for approval (an approval step, or a side effect governance sent for review)',
    step: true,
    examples: ['orchestron approve "$RUN" --step budget-approval --reason "within Q3 budget"'],
  },
  reject: {
    description: 'reject a step that waits for approval; the step fails and the run handles the failure',
    step: true,
    examples: ['orchestron reject "$RUN" --step budget-approval --reason "no headcount"'],
  },
  pause: {
    description: 'pause a run: nothing new is dispatched until it is resumed',
    step: false,
    examples: ['orchestron pause "$RUN" --reason "vendor outage"'],
  },
  resume: { description: 'resume a paused run', step: false, examples: ['orchestron resume "$RUN"'] },
  retry: {
    description:
      'retry a failed step (or one the run stopped on), optionally with a new input; a new retry budget starts',
    step: true,
    input: true,
    examples: [
      'orchestron retry "$RUN" --step send-welcome',
      `orchestron retry "$RUN" --step send-welcome --input '{"to":"a@b.c"}'`,
    ],
  },
  skip: {
    description: 'skip a step, recording the output later steps should see',
    step: true,
    output: true,
    examples: [
      `orchestron skip "$RUN" --step create-workspace --output '{"workspaceId":"manual-1"}'`,
      'orchestron skip "$RUN" --step create-workspace --output @workspace.json',
    ],
  },
  compensate: {
    description: 'undo the completed side effects of a run, newest first, and end it as compensated',
    step: false,
    examples: ['orchestron compensate "$RUN" --reason "hire withdrawn"'],
  },
  cancel: {
    description: 'cancel a run without compensating',
    step: false,
    examples: ['orchestron cancel "$RUN" --reason "duplicate"'],
  },
  redrive: {
    description:
      're-open a failed, compensated or cancelled run at a step: it and everything downstream run again, upstream outputs are kept (docs/operators.md)',
    step: true,
    stepFlag: 'from',
    input: true,
    reasonRequired: true,
    examples: [
      'orchestron redrive "$RUN" --from create-workspace --reason "workspace quota raised"',
      `orchestron redrive "$RUN" --from create-workspace --input '{"owner":"acc-1"}' --reason "fixed owner"`,
    ],
  },
};

interface ActionOptions {
  readonly step?: string;
  readonly from?: string;
  readonly reason?: string;
  readonly input?: string;
  readonly output?: string;
  readonly json?: boolean;
}

export function registerOperatorCommands(program: Command, ctx: CliContext): void {
  for (const [action, spec] of Object.entries(SPECS) as [OperatorAction, ActionSpec][]) {
    const command = program.command(action).description(spec.description).argument('<runId>', 'the run');
    if (spec.stepFlag === 'from') command.requiredOption('--from <stepId>', 'the step to run again from');
    else if (spec.step) command.requiredOption('--step <stepId>', 'the step to act on');
    if (spec.input)
      command.option('-i, --input <json|@file>', 'the input for the next attempt: JSON text, or @path to a JSON file');
    if (spec.output)
      command.requiredOption('--output <json|@file>', 'the output to record: JSON text, or @path to a JSON file');
    const why = 'why; recorded in the run history with your identity';
    if (spec.reasonRequired) command.requiredOption('--reason <text>', why);
    else command.option('--reason <text>', why);
    command
      .option('--json', 'print the run as one line of JSON')
      .addHelpText(
        'after',
        `
Examples:
${spec.examples.map((e) => `  $ ${e}`).join('\n')}

The actor recorded is the identity of your API key. Exits like \`orchestron status\`: with the run's status
once the action is applied; 2 if the action does not apply (e.g. STEP.ALREADY_TERMINAL).
`,
      )
      .action(async (runId: string, options: ActionOptions, cmd: Command) => {
        const stepId = options.step ?? options.from;
        const request: ActionRequest = {
          stepId,
          reason: options.reason,
          input: options.input === undefined ? undefined : parseJsonOption(options.input, '--input', ctx.cwd),
          output: options.output === undefined ? undefined : parseJsonOption(options.output, '--output', ctx.cwd),
        };
        const { run, agent_contract } = await ctx.client(cmd).act(runId, action, request);
        if (options.json) {
          printJson(ctx.io, run);
        } else {
          ctx.io.out(`${action}${stepId ? ` ${stepId}` : ''}: done; run ${run.id} is now ${run.status}`);
          ctx.io.out('');
          for (const line of runViewLines(run, agent_contract, ctx.io.colour)) ctx.io.out(line);
        }
        ctx.finish({ kind: 'run', status: run.status });
      });
  }
}
