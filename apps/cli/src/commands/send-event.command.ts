import { randomUUID } from 'node:crypto';
import { parseJsonOption } from '../json-option.ts';
import { printJson } from '../output.ts';
import type { SendEventRequest, SendEventResult } from '../api.types.ts';
import type { CliContext } from '../cli.context.ts';
import type { Command } from 'commander';

interface SendEventOptions {
  readonly key: string;
  readonly id?: string;
  readonly payload?: string;
  readonly tenant?: string;
  readonly json?: boolean;
}

const HELP = `
Examples:
  $ orchestron send-event contract.signed --key C-1042 --id sig-881 --payload '{"signedBy":"ann"}'
  $ orchestron send-event bank.confirmed --key INV-7 --id stmt-2026-12-06-17 --payload @confirmation.json --json

Delivered to every step of your tenant's runs waiting for the event with that key (type: event steps whose match
evaluated to it): the payload becomes their output. If no step waits yet, the event is kept for the buffer window
(ORCHESTRON_EVENT_BUFFER, 24h by default) and handed to the first step that starts waiting for it. An --id already
sent with the same name and key is a duplicate: nothing is delivered again. Without --id a new one is made up, so
pass your own to make a retry safe. Needs a producer, operator or admin key.

Exits 0 when the event was delivered, buffered or found a duplicate.
`;

export function registerSendEventCommand(program: Command, ctx: CliContext): void {
  program
    .command('send-event')
    .description('send an event from outside to the event steps waiting for it (POST /v1/events)')
    .argument('<name>', 'the event, as event steps name it: contract.signed')
    .requiredOption('--key <key>', 'what it is about: delivered to the steps whose match evaluated to this key')
    .option('--id <id>', 'your id for the event; the same id again is a duplicate (default: a new UUID)')
    .option('-p, --payload <json|@file>', "the event's payload: JSON text, or @path to a JSON file (default null)")
    .option('--tenant <tenant>', "admin only: another tenant's runs")
    .option('--json', 'print the answer as one line of JSON')
    .addHelpText('after', HELP)
    .action(async (name: string, options: SendEventOptions, cmd: Command) => {
      const request: SendEventRequest = {
        name,
        key: options.key,
        id: options.id ?? randomUUID(),
        ...(options.payload !== undefined ? { payload: parseJsonOption(options.payload, '--payload', ctx.cwd) } : {}),
        ...(options.tenant !== undefined ? { tenant: options.tenant } : {}),
      };
      const { event } = await ctx.client(cmd).sendEvent(request);
      if (options.json) printJson(ctx.io, event);
      else ctx.io.out(describe(name, request.key, event));
      ctx.finish({ kind: 'succeeded' });
    });
}

function describe(name: string, key: string, event: SendEventResult): string {
  const what = `event ${name} (key ${JSON.stringify(key)}, id ${JSON.stringify(event.eventId)})`;
  const runs = event.deliveredTo.map((t) => `${t.runId} (step ${t.stepId})`).join(', ');
  switch (event.status) {
    case 'delivered':
      return `${what}: delivered to ${runs}`;
    case 'buffered':
      return `${what}: no step waits for it yet; buffered until ${event.expiresAt}`;
    case 'duplicate':
      return `${what}: a duplicate, ignored${runs ? `; the first one went to ${runs}` : ''}`;
  }
}
