import { parseJsonOption } from '../json-option.ts';
import { UsageError } from '../cli.errors.ts';
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
  /** `--tokens` and `--cost`: a new budget. */
  readonly budget?: boolean;
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
  'raise-budget': {
    description:
      'set a new budget on a run; one stopped at BUDGET.EXCEEDED goes on once the budget covers what it used (docs/agents.md)',
    step: false,
    budget: true,
    reasonRequired: true,
    examples: [
      'orchestron raise-budget "$RUN" --tokens 50000 --reason "long contract, checked"',
      'orchestron raise-budget "$RUN" --tokens 50000 --cost "2.50 USD" --reason "approved by finance"',
    ],
  },
};

interface ActionOptions {
  readonly step?: string;
  readonly from?: string;
  readonly reason?: string;
  readonly input?: string;
  readonly output?: string;
  readonly tokens?: string;
  readonly cost?: string;
  readonly json?: boolean;
}

/** `--tokens 50000 --cost "2.50 USD"` as a budget; a usage error names the option. */
function budgetOf(options: ActionOptions): ActionRequest['budget'] {
  if (options.tokens === undefined && options.cost === undefined)
    throw new UsageError('raise-budget needs --tokens, --cost or both');
  const tokens = options.tokens === undefined ? undefined : Number(options.tokens);
  if (tokens !== undefined && !(Number.isSafeInteger(tokens) && tokens >= 1))
    throw new UsageError(`--tokens must be a whole number of tokens, 1 or more; got ${JSON.stringify(options.tokens)}`);
  const cost = options.cost === undefined ? undefined : /^(\d+(?:\.\d+)?)\s*([A-Z]{3})$/.exec(options.cost.trim());
  if (options.cost !== undefined && (cost === null || cost === undefined))
    throw new UsageError(
      `--cost must be an amount and an ISO 4217 currency, e.g. "2.50 USD"; got ${JSON.stringify(options.cost)}`,
    );
  return {
    ...(tokens !== undefined ? { tokens } : {}),
    ...(cost ? { cost: { amount: Number(cost[1]), currency: cost[2] as string } } : {}),
  };
}

export function registerOperatorCommands(program: Command, ctx: CliContext): void {
  for (const [action, spec] of Object.entries(SPECS) as [OperatorAction, ActionSpec][]) {
    const command = program.command(action).description(spec.description).argument('<runId>', 'the run');
    if (spec.stepFlag === 'from') command.requiredOption('--from <stepId>', 'the step to run again from');
    else if (spec.step) command.requiredOption('--step <stepId>', 'the step to act on');
    if (spec.input)
      command.option('-i, --input <json|@file>', 'the input for the next attempt: JSON text, or @path to a JSON file');
    if (spec.budget)
      command
        .option('--tokens <n>', 'the most tokens (input and output together) the run may use in all')
        .option('--cost <amount currency>', 'the most the run may cost in all, e.g. "2.50 USD"');
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
          ...(spec.budget ? { budget: budgetOf(options) } : {}),
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
