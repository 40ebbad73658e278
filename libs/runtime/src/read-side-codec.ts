import type { CompiledDefinition } from '@orchestron/definitions';
import { RUN_STATUSES } from '@orchestron/workflow-core';
import type { RunStatus } from '@orchestron/workflow-core';
import type { RegisteredVersion } from './definition-registry.ts';
import type { RunCount } from './run-counts.ts';
import type { IndexedRun } from './run-index.ts';
import { decodeRunColumns, encodeRunColumns, UnusableCheckpointError } from './run-index-codec.ts';

/** Bumped whenever what a checkpoint holds or how it is written changes: a checkpoint of another format is replayed. */
export const READ_SIDE_FORMAT = 2;

/** Runs encoded between two yields to the event loop, so a save never holds the projection up for long. */
const RUNS_PER_SLICE = 5_000;

/** Everything the read side's models hold, at one position of the log. */
export interface ReadSideCapture {
  readonly position: number;
  /** Id of the event at `position`, so a restore can tell that the store still has that log (not a backup's). */
  readonly lastEventId: string;
  /** The runs in memory: every run still moving, and the ended ones not archived yet. */
  readonly runs: readonly IndexedRun[];
  /** How many runs each tenant has in each status, archived ones included. */
  readonly counts: readonly RunCount[];
  readonly definitions: readonly RegisteredVersion[];
}

type DefinitionRow = [key: string, version: number, registeredAt: string, fingerprint: string, definition: unknown];

/**
 * The capture as checkpoint text. Encodes RUNS_PER_SLICE runs at a time and yields in between: the capture is
 * made of immutable entries, so the models may move on meanwhile without changing what is written.
 */
export async function encodeReadSide(capture: ReadSideCapture): Promise<string> {
  const runs = await encodeRunColumns(capture.runs, RUNS_PER_SLICE, yieldToEventLoop);
  // A column at a time, yielding in between: at 100,000 runs the whole object at once held the loop for ~50 ms.
  const columns: string[] = [];
  for (const [name, column] of Object.entries(runs)) {
    columns.push(`${JSON.stringify(name)}:${JSON.stringify(column)}`);
    await yieldToEventLoop();
  }
  const head = JSON.stringify({
    format: READ_SIDE_FORMAT,
    position: capture.position,
    lastEventId: capture.lastEventId,
    definitions: capture.definitions.map(definitionRow),
    counts: capture.counts,
  });
  return `${head.slice(0, -1)},"runs":{${columns.join(',')}}}`;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Checkpoint text back into a capture; throws UnusableCheckpointError saying why it cannot be used. */
export function decodeReadSide(text: string): ReadSideCapture {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UnusableCheckpointError(`it does not parse as JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null) throw new UnusableCheckpointError('it is not a JSON object');
  const { format, position, lastEventId, definitions, runs, counts } = parsed as Record<string, unknown>;
  if (format !== READ_SIDE_FORMAT)
    throw new UnusableCheckpointError(
      `its format is ${JSON.stringify(format)}, this version reads ${READ_SIDE_FORMAT}`,
    );
  if (!Number.isSafeInteger(position) || (position as number) < 0)
    throw new UnusableCheckpointError('its position is not a non-negative integer');
  if (typeof lastEventId !== 'string') throw new UnusableCheckpointError('it names no last event');
  return {
    position: position as number,
    lastEventId,
    runs: decodeRunColumns(runs, position as number),
    counts: decodeCounts(counts),
    definitions: decodeDefinitions(definitions),
  };
}

function decodeCounts(counts: unknown): RunCount[] {
  if (!Array.isArray(counts)) throw new UnusableCheckpointError('its run counts are not a list');
  return counts.map((entry: unknown, index) => {
    const [tenant, status, count] = (Array.isArray(entry) ? entry : []) as unknown[];
    if (typeof tenant !== 'string' || !isRunStatus(status) || !Number.isSafeInteger(count) || (count as number) < 0)
      throw new UnusableCheckpointError(`run count #${index} is malformed`);
    return [tenant, status, count as number];
  });
}

const isRunStatus = (status: unknown): status is RunStatus => (RUN_STATUSES as readonly unknown[]).includes(status);

function definitionRow({ key, version, registered }: RegisteredVersion): DefinitionRow {
  return [key, version, registered.registeredAt, registered.fingerprint, registered.definition];
}

function decodeDefinitions(rows: unknown): RegisteredVersion[] {
  if (!Array.isArray(rows)) throw new UnusableCheckpointError('its definitions are not a list');
  return rows.map((row: unknown, index) => {
    const [key, version, registeredAt, fingerprint, definition] = (Array.isArray(row) ? row : []) as unknown[];
    const valid =
      typeof key === 'string' &&
      key.includes('/') &&
      Number.isSafeInteger(version) &&
      typeof registeredAt === 'string' &&
      typeof fingerprint === 'string' &&
      typeof definition === 'object' &&
      definition !== null &&
      (definition as { version?: unknown }).version === version;
    if (!valid) throw new UnusableCheckpointError(`definition #${index} is malformed`);
    return {
      key,
      version: version as number,
      registered: { registeredAt, fingerprint, definition: definition as CompiledDefinition },
    };
  });
}
