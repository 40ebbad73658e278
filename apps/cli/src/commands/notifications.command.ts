import { UsageError } from '../cli.errors.ts';
import { brief, table } from '../format.ts';
import { printJson } from '../output.ts';
import type { DeliveryView } from '../notification.types.ts';
import type { CliContext } from '../cli.context.ts';
import type { Command } from 'commander';

const STATUSES = ['pending', 'delivered', 'failed'];

interface ListOptions {
  readonly run?: string;
  readonly status?: string;
  readonly tenant?: string;
  readonly limit?: string;
  readonly json?: boolean;
}

/** The last attempt in a few words: its HTTP status or error. */
function lastOutcome(d: DeliveryView): string {
  if (d.attempts === 0) return '-';
  if (d.lastError === null) return String(d.lastStatus ?? '-');
  return brief(d.lastError, 60);
}

function deliveryRows(deliveries: readonly DeliveryView[]): string[] {
  return table(
    ['TYPE', 'RUN', 'STEP', 'STATUS', 'ATTEMPTS', 'LAST', 'NEXT ATTEMPT', 'ENDPOINT'],
    deliveries.map((d) => [
      d.type,
      d.runId,
      d.stepId ?? '-',
      d.status,
      String(d.attempts),
      lastOutcome(d),
      d.nextAttemptAt ?? '-',
      d.endpoint,
    ]),
  );
}

function limitOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const limit = Number(text);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1_000)
    throw new UsageError(`--limit must be an integer from 1 to 1000; got ${JSON.stringify(text.slice(0, 40))}`);
  return limit;
}

export function registerNotificationsCommand(program: Command, ctx: CliContext): void {
  const notifications = program
    .command('notifications')
    .description('webhook deliveries: what was sent where, and how each attempt went (operator, auditor, admin)')
    .addHelpText(
      'after',
      `
The server sends a webhook (ORCHESTRON_WEBHOOKS) when an approval is requested or times out, a run
needs an operator, a compensation fails or a run fails. Each delivery is kept with its attempts:
pending (to be tried, at NEXT ATTEMPT), delivered (a 2xx came back) or failed (every attempt failed).
You see your tenant's deliveries (an admin key: every tenant's).

Examples:
  $ orchestron notifications list
  $ orchestron notifications list --run 3f9a0c12-… --json
  $ orchestron notifications list --status failed
`,
    );

  notifications
    .command('list')
    .description('deliveries, newest event first')
    .option('--run <id>', "one run's deliveries")
    .option('--status <status>', `only ${STATUSES.join(', ')}`)
    .option('--tenant <tenant>', "admin only: one tenant's deliveries")
    .option('--limit <n>', 'at most this many (1 to 1000, default 100)')
    .option('--json', 'print {"deliveries":[…]} as one line of JSON')
    .action(async (options: ListOptions, command: Command) => {
      if (options.status !== undefined && !STATUSES.includes(options.status))
        throw new UsageError(`--status must be one of ${STATUSES.join(', ')}; got ${JSON.stringify(options.status)}`);
      const limit = limitOf(options.limit);
      const { deliveries } = await ctx.client(command).listNotifications({
        ...(options.run !== undefined ? { run: options.run } : {}),
        ...(options.status !== undefined ? { status: options.status } : {}),
        ...(options.tenant !== undefined ? { tenant: options.tenant } : {}),
        ...(limit !== undefined ? { limit } : {}),
      });
      if (options.json) printJson(ctx.io, { deliveries });
      else if (deliveries.length === 0) ctx.io.out('no webhook deliveries');
      else for (const line of deliveryRows(deliveries)) ctx.io.out(line);
      ctx.finish({ kind: 'succeeded' });
    });
}
