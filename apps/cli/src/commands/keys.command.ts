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

const groupsOf = (k: KeyView): string => (k.groups?.length ? k.groups.join(',') : '-');

function keyRows(keys: readonly KeyView[]): string[] {
  const state = (k: KeyView): string =>
    k.revokedAt ? `revoked ${k.revokedAt}` : k.expiresAt ? `expires ${k.expiresAt}` : 'live';
  return table(
    ['ID', 'ROLE', 'SUBJECT', 'TENANT', 'SOURCE', 'STATE', 'GROUPS'],
    keys.map((k) => [k.id, k.role, k.subject, k.tenant, k.source, state(k), groupsOf(k)]),
  );
}

/** The line `keys create` prints about the key it issued. */
function issuedLine(key: KeyView): string {
  const groups = key.groups?.length ? `, groups ${key.groups.join(', ')}` : '';
  const expires = key.expiresAt ? `, expires ${key.expiresAt}` : '';
  return `key ${key.id}: ${key.role} ${key.subject} in tenant ${key.tenant}${groups}${expires}`;
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
A key may hold groups: an approval gate with assignees is decided only by an admin key or a key
matching one (group:<g>, role:<g> or <g> for a key holding g; user:<name> for the key's subject).

Examples:
  $ orchestron keys create --role producer --subject billing-service --tenant acme --expires 90d
  $ orchestron keys create --role operator --subject ann --tenant acme --group finance --group hr
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
    .option(
      '--group <group>',
      'a group it holds, for approval gates assigned to group:<group> (repeat for more)',
      (group: string, groups: string[]) => [...groups, group],
      [] as string[],
    )
    .option('--expires <when>', 'a duration (30d, 12h) or an ISO time; default never')
    .option('--json', 'print {"key":…,"token":…} as one line of JSON')
    .action(
      async (
        options: { role: string; subject: string; tenant?: string; group: string[]; expires?: string; json?: boolean },
        command: Command,
      ) => {
        const expiresAt = options.expires === undefined ? undefined : expiryOf(options.expires, ctx.now());
        const issued = await ctx.client(command).createKey({
          role: options.role,
          subject: options.subject,
          ...(options.tenant !== undefined ? { tenant: options.tenant } : {}),
          ...(options.group.length > 0 ? { groups: options.group } : {}),
          ...(expiresAt !== undefined ? { expiresAt } : {}),
        });
        if (options.json) printJson(ctx.io, issued);
        else {
          ctx.io.out(issuedLine(issued.key));
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
