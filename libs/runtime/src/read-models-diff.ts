import stringify from 'safe-stable-stringify';
import type { RegisteredVersion } from './definition-registry.ts';
import type { RunCount } from './run-counts.ts';
import type { IndexedRun } from './run-summary.ts';

/** A persisted run as read back: the run, or why its row cannot be read. */
export type LiveRun = IndexedRun | { readonly unreadable: string };

/** One way the persisted (live) models differ from the rebuilt ones. */
export interface ReadModelDifference {
  readonly model: 'run' | 'count' | 'definition' | 'checkpoint';
  /** The run's id, `tenant/status` for a count, `tenant/definition@version`, or the checkpoint's name. */
  readonly id: string;
  /** The field that differs; `present` when one side has no such entry at all. */
  readonly field: string;
  /** The value on each side; null when that side has no such entry. */
  readonly live: unknown;
  readonly rebuilt: unknown;
}

export interface LiveReadModels {
  readonly runs: ReadonlyMap<string, LiveRun>;
  readonly counts: readonly RunCount[];
  readonly definitions: readonly RegisteredVersion[];
}

export interface RebuiltModels {
  readonly runs: readonly IndexedRun[];
  readonly counts: readonly RunCount[];
  readonly definitions: readonly RegisteredVersion[];
}

/** Every difference, runs first (by id), then counts, then definitions. */
export function diffReadModels(live: LiveReadModels, rebuilt: RebuiltModels): ReadModelDifference[] {
  return [
    ...diffEntries('run', live.runs, new Map(rebuilt.runs.map((run) => [run.id, run]))),
    ...diffEntries('count', countMap(live.counts), countMap(rebuilt.counts)),
    ...diffEntries('definition', definitionMap(live.definitions), definitionMap(rebuilt.definitions)),
  ];
}

function diffEntries(
  model: ReadModelDifference['model'],
  live: ReadonlyMap<string, object>,
  rebuilt: ReadonlyMap<string, object>,
): ReadModelDifference[] {
  const ids = [...new Set([...live.keys(), ...rebuilt.keys()])].sort();
  return ids.flatMap((id) => diffEntry(model, id, live.get(id), rebuilt.get(id)));
}

function diffEntry(
  model: ReadModelDifference['model'],
  id: string,
  live: object | undefined,
  rebuilt: object | undefined,
): ReadModelDifference[] {
  if (live === undefined || rebuilt === undefined)
    return [{ model, id, field: 'present', live: live !== undefined, rebuilt: rebuilt !== undefined }];
  if ('unreadable' in live) return [{ model, id, field: 'row', live: live.unreadable, rebuilt: 'readable' }];
  const fields = [...new Set([...Object.keys(live), ...Object.keys(rebuilt)])].sort();
  return fields.flatMap((field) => {
    const a = (live as Record<string, unknown>)[field] ?? null;
    const b = (rebuilt as Record<string, unknown>)[field] ?? null;
    return stringify(a) === stringify(b) ? [] : [{ model, id, field, live: a, rebuilt: b }];
  });
}

function countMap(counts: readonly RunCount[]): Map<string, { count: number }> {
  return new Map(counts.map(([tenant, status, count]) => [`${tenant}/${status}`, { count }]));
}

function definitionMap(definitions: readonly RegisteredVersion[]): Map<string, object> {
  return new Map(
    definitions.map(({ key, version, registered }) => [
      `${key}@${version}`,
      { registeredAt: registered.registeredAt, fingerprint: registered.fingerprint, definition: registered.definition },
    ]),
  );
}
