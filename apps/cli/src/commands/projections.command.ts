import { rebuildReadModels, saveRebuiltModels, verifyReadModels } from '@orchestron/runtime';
import type { ReadModelDifference, ReadModelsVerification, SavedReadModels } from '@orchestron/runtime';
import { UsageError } from '../cli.errors.ts';
import { printJson } from '../output.ts';
import { openStoreDirectly } from '../read-store.ts';
import { rebuildBar } from '../rebuild-progress.ts';
import type { CliContext } from '../cli.context.ts';
import type { OpenedStore, StoreOptions } from '../read-store.ts';
import type { Command } from 'commander';

interface RebuildOptions extends StoreOptions {
  readonly verify?: boolean;
  readonly force?: boolean;
  readonly json?: boolean;
}

const HELP = `
Replays the whole global log into fresh read models (the run index with its per-tenant counts, and the
definition registry), with a progress bar on stderr. The CLI opens the event store directly, not through
the server: --data <dir> (the embedded SQLite store; default $ORCHESTRON_DATA, else ./.orchestron) or
--pg <url> [--schema <s>] (PostgreSQL; default schema $ORCHESTRON_PG_SCHEMA, else orchestron).

--verify writes nothing. It loads the persisted models as a server start does (the read-side checkpoint,
caught up from its position, plus the ended runs archived in the read rows) and compares them with the
rebuild, both at the log's last position: each difference names the model, the run (or tenant/status, or
definition@version), the field, and the live and rebuilt values. Exits 1 when there is any, 0 and
"no difference" otherwise. It is safe beside a running server, though a log that moves meanwhile may
show differences that are only lag.

Without --verify, the rebuilt models replace the persisted ones: the ended runs are written to the read
rows, then the checkpoint. STOP THE SERVER FIRST: a running one keeps saving its own models over them.
With the embedded store, a write-ahead log (events.sqlite-wal) beside the store means a server has it open,
and the rebuild refuses; --force overrides that (after a server that was killed, say).

Exit codes: 0 rebuilt, or no difference; 1 differences listed; 2 bad usage; 4 the store failed.

Examples:
  $ orchestron projections rebuild --verify
  $ orchestron projections rebuild --verify --data /var/lib/orchestron --json | jq '.differences[]'
  $ orchestron projections rebuild --pg postgres://orchestron@db/orchestron --schema prod
`;

export function registerProjectionsCommand(program: Command, ctx: CliContext): void {
  const projections = program
    .command('projections')
    .description('rebuild and check the read models (projections of the global log), straight from the event store');
  projections
    .command('rebuild')
    .description('replay the global log into fresh read models; --verify compares them with the persisted ones')
    .option('--verify', 'write nothing: list every difference between the persisted models and the rebuilt ones')
    .option('--data <dir>', 'the embedded store of this data directory (default: $ORCHESTRON_DATA or ./.orchestron)')
    .option('--pg <url>', 'a PostgreSQL store, at this connection URL')
    .option('--schema <schema>', 'with --pg: its schema (default: $ORCHESTRON_PG_SCHEMA or orchestron)')
    .option('--force', 'rebuild even though the embedded store looks open by a server')
    .option('--json', 'print one JSON report on stdout (the progress bar still goes to stderr)')
    .addHelpText('after', HELP)
    .action(async (options: RebuildOptions) => {
      if (options.verify && options.force) throw new UsageError('--force only applies to a rebuild that writes');
      const opened = await openStoreDirectly(options, ctx.env, ctx.cwd);
      try {
        if (options.verify) await verify(ctx, opened, options);
        else await rebuild(ctx, opened, options);
      } finally {
        await opened.store.close();
      }
    });
}

function progress(ctx: CliContext): { onProgress: (position: number, last: number) => void; stop: () => void } {
  const bar = rebuildBar(process.stderr.isTTY === true, (line) => ctx.io.err(line));
  return { onProgress: (position, last) => bar.update(position, last), stop: () => bar.stop() };
}

async function verify(ctx: CliContext, opened: OpenedStore, options: RebuildOptions): Promise<void> {
  const bar = progress(ctx);
  const report = await verifyReadModels(opened.store, bar.onProgress).finally(bar.stop);
  const { rebuilt: _rebuilt, ...summary } = report;
  if (options.json) printJson(ctx.io, { store: opened.where, ...summary });
  else printVerification(ctx, opened, report);
  ctx.finish(report.differences.length === 0 ? { kind: 'succeeded' } : { kind: 'check_failed' });
}

async function rebuild(ctx: CliContext, opened: OpenedStore, options: RebuildOptions): Promise<void> {
  if (opened.inUse !== undefined && !options.force)
    throw new UsageError(
      `the event store looks open by a running server (${opened.inUse}): stop the server first, or pass --force if it is not running`,
    );
  const bar = progress(ctx);
  const rebuilt = await rebuildReadModels(opened.store, bar.onProgress).finally(bar.stop);
  const saved = await saveRebuiltModels(opened.store, rebuilt.capture);
  const figures = {
    store: opened.where,
    position: rebuilt.capture.position,
    events: rebuilt.events,
    runs: rebuilt.capture.runs.length,
    definitions: rebuilt.capture.definitions.length,
    rebuildMs: rebuilt.ms,
    ...saved,
  };
  if (options.json) printJson(ctx.io, figures);
  else {
    ctx.io.out(rebuiltLine(figures));
    ctx.io.out(savedLine(saved, rebuilt.capture.position));
  }
  ctx.finish({ kind: 'succeeded' });
}

const n = (value: number): string => value.toLocaleString('en-US');

function rebuiltLine(f: { runs: number; events: number; definitions: number; rebuildMs: number }): string {
  return `rebuilt ${n(f.runs)} runs and ${n(f.definitions)} definition versions from ${n(f.events)} events in ${n(f.rebuildMs)} ms`;
}

function savedLine(saved: SavedReadModels, position: number): string {
  return `saved ${n(saved.archived)} ended runs to the read rows and ${n(saved.inCheckpoint)} runs in checkpoint ${saved.checkpoint} at position ${n(position)}`;
}

function printVerification(ctx: CliContext, opened: OpenedStore, report: ReadModelsVerification): void {
  ctx.io.err(`store: ${opened.where}`);
  ctx.io.out(rebuiltLine(report));
  ctx.io.out(`persisted: ${checkpointText(report)}; ${n(report.archivedRows)} archived runs in the read rows`);
  for (const difference of report.differences) ctx.io.out(differenceLine(difference));
  const count = report.differences.length;
  ctx.io.out(count === 0 ? 'no difference' : `${n(count)} difference${count === 1 ? '' : 's'}`);
}

function checkpointText(report: ReadModelsVerification): string {
  const { checkpoint, position } = report;
  switch (checkpoint.status) {
    case 'restored':
      return `checkpoint at position ${n(checkpoint.position)} of ${n(position)}`;
    case 'ignored':
      return `checkpoint unusable (${checkpoint.reason})`;
    case 'none':
      return 'no checkpoint';
  }
}

/** `run <id> status: live "failed", rebuilt "completed"`. */
export function differenceLine(d: ReadModelDifference): string {
  const show = (value: unknown): string => JSON.stringify(value ?? null);
  return `${d.model} ${d.id} ${d.field}: live ${show(d.live)}, rebuilt ${show(d.rebuilt)}`;
}
