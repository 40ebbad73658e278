import { Command, CommanderError } from 'commander';
import { createContext } from './cli.context.ts';
import { UsageError } from './cli.errors.ts';
import { registerDlqCommand } from './commands/dlq.command.ts';
import { registerAuditCommand } from './commands/audit.command.ts';
import { registerForkCommand } from './commands/fork.command.ts';
import { registerInspectCommands } from './commands/inspect.commands.ts';
import { registerKeysCommand } from './commands/keys.command.ts';
import { registerLocksCommand } from './commands/locks.command.ts';
import { registerMcpCommand } from './commands/mcp.command.ts';
import { registerNotificationsCommand } from './commands/notifications.command.ts';
import { registerOperatorCommands } from './commands/operator.commands.ts';
import { registerProjectionsCommand } from './commands/projections.command.ts';
import { registerRunCommand } from './commands/run.command.ts';
import { registerScheduleCommand } from './commands/schedule.command.ts';
import { registerSendEventCommand } from './commands/send-event.command.ts';
import { registerValidateCommand } from './commands/validate.command.ts';
import { registerWorkerCheckCommand } from './commands/worker-check.command.ts';
import { DEFAULT_URL } from './config.ts';
import { exitCodeFor, outcomeOfError } from './exit-codes.ts';
import { printError } from './output.ts';
import type { CliDeps } from './cli.context.ts';
import type { Outcome } from './exit-codes.ts';

const ABOUT = `
Environment:
  ORCHESTRON_URL       server URL (default ${DEFAULT_URL}); --url overrides it
  ORCHESTRON_API_KEY   API key sent as "Authorization: Bearer <key>"
  ORCHESTRON_DATA      server data directory (default ./.orchestron); its admin.key is used when
                       ORCHESTRON_API_KEY is unset
  ORCHESTRON_KAFKA_BROKERS  Kafka brokers for \`orchestron dlq\` and \`worker-check\` (default 127.0.0.1:9092);
                       --brokers overrides it
  ORCHESTRON_TOPIC_PREFIX  the deployment's topic prefix, for \`dlq\` and \`worker-check\` (default none)
  NO_COLOR             set to turn colour off (it is only used on a terminal anyway)

Exit codes:
  0  completed, or the command succeeded (a run started without --wait is still moving)
  1  the run failed, was compensated or was cancelled; worker-check: a scenario failed;
     projections rebuild --verify: the read models differ
  2  bad input: usage, invalid definition or run input, unknown run or step, action not allowed now
  3  the run needs an operator, or waits for a human approval
  4  the server (or, for dlq and worker-check, Kafka) cannot be reached or failed, or --timeout ran out

With --json, stdout holds JSON only; its last line is the answer (the run for run, status and the
operator actions) or {"error":{…}}.

Examples:
  $ orchestron validate examples/employee-onboarding.yaml
  $ orchestron run examples/employee-onboarding.yaml --input '{"email":"a@b.c"}' --wait
  $ orchestron list --status needs_operator
  $ orchestron approve "$RUN" --step budget-approval --reason "ok"
  $ orchestron schedule create nightly --definition report --cron "0 2 * * *" --tz Europe/Paris
  $ orchestron locks              # who holds each resource lock, who waits
  $ orchestron dlq list
  $ orchestron keys create --role producer --subject shop --tenant acme
  $ orchestron notifications list --status failed
  $ orchestron worker-check --worker mail --topic-prefix check.
  $ orchestron projections rebuild --verify --data ./.orchestron
  $ orchestron mcp                # MCP over stdio, for an MCP client to start
`;

export function buildProgram(deps: CliDeps, onOutcome: (outcome: Outcome) => void): Command {
  const program = new Command('orchestron')
    .description('Start, follow and operate Orchestron workflow runs.')
    .option('--url <url>', `server URL (default: $ORCHESTRON_URL or ${DEFAULT_URL})`)
    // Before any subcommand exists: commander copies these settings into each one it creates.
    .exitOverride()
    .configureOutput({
      writeOut: (s) => deps.io.out(s.replace(/\n$/, '')),
      writeErr: (s) => deps.io.err(s.replace(/\n$/, '')),
    })
    .showHelpAfterError('(run with --help for usage and examples)')
    .addHelpText('after', ABOUT);
  const ctx = createContext(deps, onOutcome);
  registerRunCommand(program, ctx);
  registerInspectCommands(program, ctx);
  registerOperatorCommands(program, ctx);
  registerForkCommand(program, ctx);
  registerSendEventCommand(program, ctx);
  registerLocksCommand(program, ctx);
  registerScheduleCommand(program, ctx);
  registerValidateCommand(program, ctx);
  registerDlqCommand(program, ctx);
  registerKeysCommand(program, ctx);
  registerNotificationsCommand(program, ctx);
  registerAuditCommand(program, ctx);
  registerWorkerCheckCommand(program, ctx);
  registerProjectionsCommand(program, ctx);
  registerMcpCommand(program, ctx);
  return program;
}

/** Runs one command line (without `node` and the script) and returns the exit code. Never throws. */
export async function runCli(args: readonly string[], deps: CliDeps): Promise<number> {
  let outcome: Outcome = { kind: 'succeeded' };
  const program = buildProgram(deps, (o) => (outcome = o));
  const json = args.includes('--json');
  try {
    await program.parseAsync([...args], { from: 'user' });
    return exitCodeFor(outcome);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version "errors" are commander's way of stopping early; the rest are usage errors it already printed.
      if (error.exitCode === 0) return exitCodeFor({ kind: 'succeeded' });
      if (json) printError(deps.io, new UsageError(error.message.replace(/^error: /, '')), true);
      return exitCodeFor({ kind: 'usage_error' });
    }
    printError(deps.io, error, json);
    return exitCodeFor(outcomeOfError(error));
  }
}
