import { UsageError } from '../cli.errors.ts';
import { table } from '../format.ts';
import { printJson } from '../output.ts';
import type { KeyView } from '../api.types.ts';
import type { CliContext } from '../cli.context.ts';
import type { Command } from 'commander';

const DURATION = /^(\d+)(h|d)$/;

/** `--expires 30d` / `12h`, or an ISO time, as the ISO time the server takes. */
export function expiryOf(text: string, now: number): string {
  const relative = DURATION.exec(text);
  if (relative)
    return new Date(now + Number(relative[1]) * (relative[2] === 'd' ? 86_400_000 : 3_600_000)).toISOString();
  if (!Number.isNaN(Date.parse(text)) && /^\d{4}-\d{2}-\d{2}T/.test(text)) return text;
  throw new UsageError(
    `--expires must be a duration like 30d or 12h, or an ISO time like 2027-01-31T00:00:00Z; got ${JSON.stringify(text.slice(0, 80))}`,
  );
}

function keyRows(keys: readonly KeyView[]): string[] {
  const state = (k: KeyView): string =>
    k.revokedAt ? `revoked ${k.revokedAt}` : k.expiresAt ? `expires ${k.expiresAt}` : 'live';
  return table(
    ['ID', 'ROLE', 'SUBJECT', 'TENANT', 'SOURCE', 'STATE'],
    keys.map((k) => [k.id, k.role, k.subject, k.tenant, k.source, state(k)]),
  );
}

export function registerKeysCommand(program: Command, ctx: CliContext): void {
  const keys = program
    .command('keys')
    .description('issue, list and revoke API keys (admin)')
    .addHelpText(
      'after',
      `
Keys are kept as scrypt hashes in the event store; a token is shown once, when it is issued. Each key has a
role (producer, worker, operator, auditor, admin) and a tenant: it sees its own tenant's runs and
definitions only (an admin key sees every tenant). Events record the key's id, never its token.

Examples:
  $ orchestron keys create --role producer --subject billing-service --tenant acme --expires 90d
  $ orchestron keys list --tenant acme
  $ orchestron keys revoke 3f9a0c12b7de --reason "rotated"
`,
    );

  keys
    .command('create')
    .description('issue a key and print its token (shown this once)')
    .requiredOption('--role <role>', 'producer, worker, operator, auditor or admin')
    .requiredOption('--subject <name>', 'who holds it (a person or a service), recorded as the actor of what it does')
    .option('--tenant <tenant>', 'its tenant (default: the tenant of your own key)')
    .option('--expires <when>', 'a duration (30d, 12h) or an ISO time; default never')
    .option('--json', 'print {"key":…,"token":…} as one line of JSON')
    .action(
      async (
        options: { role: string; subject: string; tenant?: string; expires?: string; json?: boolean },
        command: Command,
      ) => {
        const expiresAt = options.expires === undefined ? undefined : expiryOf(options.expires, ctx.now());
        const issued = await ctx.client(command).createKey({
          role: options.role,
          subject: options.subject,
          ...(options.tenant !== undefined ? { tenant: options.tenant } : {}),
          ...(expiresAt !== undefined ? { expiresAt } : {}),
        });
        if (options.json) printJson(ctx.io, issued);
        else {
          ctx.io.out(
            `key ${issued.key.id}: ${issued.key.role} ${issued.key.subject} in tenant ${issued.key.tenant}${issued.key.expiresAt ? `, expires ${issued.key.expiresAt}` : ''}`,
          );
          ctx.io.out(`token (shown once; store it now): ${issued.token}`);
        }
        ctx.finish({ kind: 'succeeded' });
      },
    );

  keys
    .command('list')
    .description('every key, configured and issued, without secrets')
    .option('--tenant <tenant>', "one tenant's keys")
    .option('--json', 'print {"keys":[…]} as one line of JSON')
    .action(async (options: { tenant?: string; json?: boolean }, command: Command) => {
      const { keys: list } = await ctx.client(command).listKeys(options.tenant);
      if (options.json) printJson(ctx.io, { keys: list });
      else for (const line of keyRows(list)) ctx.io.out(line);
      ctx.finish({ kind: 'succeeded' });
    });

  keys
    .command('revoke')
    .description('revoke an issued key: refused at once')
    .argument('<keyId>', "the key's id (keys list shows it)")
    .option('--reason <text>', 'recorded with the revocation')
    .option('--json', 'print {"key":…} as one line of JSON')
    .action(async (keyId: string, options: { reason?: string; json?: boolean }, command: Command) => {
      const { key } = await ctx.client(command).revokeKey(keyId, options.reason);
      if (options.json) printJson(ctx.io, { key });
      else ctx.io.out(`key ${key.id} revoked at ${key.revokedAt ?? '?'}`);
      ctx.finish({ kind: 'succeeded' });
    });
}
