import { UsageError } from '../cli.errors.ts';
import { table } from '../format.ts';
import { printJson } from '../output.ts';
import type { LockView } from '../api.types.ts';
import type { CliContext } from '../cli.context.ts';
import type { Command } from 'commander';

interface LocksOptions {
  readonly tenant?: string;
  readonly limit?: string;
  readonly json?: boolean;
}

const HELP = `
A step that declares locks (locks: [{ name, mode }] in its definition) takes them before its attempt goes to
its worker; until then \`orchestron status\` shows it held ("waits for lock …"). This lists every lock that a
step holds or waits for: HOLDERS have it (several only when all hold it shared), and WAITING is the queue,
first in line first: the table grants in that order and nobody overtakes the first. A step is shown as
<run id>/<step id>, with " (compensation)" when it is the step's compensation that holds or waits.

A lock is freed when the step that holds it ends (or its compensation, or its run). If a step waits too long,
look at the holder's run: \`orchestron status <run id>\`.

A key sees its own tenant's locks; an admin sees every tenant's, or one with --tenant.

Examples:
  $ orchestron locks
  LOCK       HOLDERS                    WAITING (FIRST IN LINE FIRST)
  account-7  3f9a0c12-…/post exclusive  1. 8c1d44e0-…/post exclusive since 2030-01-02T03:04:05.000Z
  $ orchestron locks --tenant acme --json
`;

function limitOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const limit = Number(text);
  if (!/^\d+$/.test(text) || limit < 1 || limit > 1_000)
    throw new UsageError(`--limit must be an integer from 1 to 1000; got ${JSON.stringify(text.slice(0, 40))}`);
  return limit;
}

export function registerLocksCommand(program: Command, ctx: CliContext): void {
  program
    .command('locks')
    .description('resource locks: which step holds each, and which steps wait for it, in order')
    .option('--tenant <tenant>', "admin only: one tenant's locks (default: every tenant for an admin, else your own)")
    .option('--limit <n>', 'at most this many locks (1 to 1000, default 100)')
    .option('--json', 'print {"locks":[…]} as one line of JSON')
    .addHelpText('after', HELP)
    .action(async (options: LocksOptions, cmd: Command) => {
      const limit = limitOf(options.limit);
      const { locks } = await ctx.client(cmd).listLocks({
        ...(options.tenant !== undefined ? { tenant: options.tenant } : {}),
        ...(limit !== undefined ? { limit } : {}),
      });
      if (options.json) printJson(ctx.io, { locks });
      else for (const line of describeLocks(locks)) ctx.io.out(line);
      ctx.finish({ kind: 'succeeded' });
    });
}

/** One row a lock: its name, who holds it, and who waits for it, first in line first. */
export function describeLocks(locks: readonly LockView[]): string[] {
  if (locks.length === 0) return ['no locks are held or waited for'];
  const tenants = new Set(locks.map((l) => l.tenant)).size > 1;
  const rows = locks.map((l) => [
    ...(tenants ? [l.tenant] : []),
    l.name,
    l.holders.map((h) => `${stepOf(h)} ${h.mode}`).join(', ') || '-',
    l.waiting.map((w, i) => `${i + 1}. ${stepOf(w)} ${w.mode} since ${w.since}`).join('  ') || '-',
  ]);
  const headers = ['LOCK', 'HOLDERS', 'WAITING (FIRST IN LINE FIRST)'];
  return table(tenants ? ['TENANT', ...headers] : headers, rows);
}

function stepOf(s: LockView['holders'][number]): string {
  return `${s.runId}/${s.stepId}${s.phase === 'compensate' ? ' (compensation)' : ''}`;
}
