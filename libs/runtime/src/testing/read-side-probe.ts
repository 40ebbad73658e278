import type { EventStore } from '@orchestron/event-store';
import type { Logger } from '../ports.ts';
import { ReadSide } from '../read-side.ts';
import type { ReadSideOptions } from '../read-side.ts';

/** A read side, with how many events it projected itself (not restored) and what it warned about. */
export function probedReadSide(
  store: EventStore,
  options: ReadSideOptions = {},
): { side: ReadSide; projected(): number; warnings: string[] } {
  let projected = 0;
  const warnings: string[] = [];
  const logger: Logger = {
    info: () => undefined,
    warn: (message, fields) => warnings.push(`${message}: ${String(fields?.['reason'] ?? fields?.['error'])}`),
    error: () => undefined,
  };
  const side = new ReadSide(store, { logger, onEvent: () => (projected += 1), ...options });
  return { side, projected: () => projected, warnings };
}

/**
 * What a read side's models say, whatever sits in memory and whatever went to the archive: the runs, the counts
 * and the definitions, at its position. Two read sides of one log compare equal here when they agree.
 */
export async function modelsOf(side: ReadSide): Promise<unknown> {
  await side.index.caughtUp();
  return {
    position: side.index.position,
    runs: await side.index.snapshot(),
    counts: side.index.countByStatus().sort((a, b) => `${a[0]}/${a[1]}`.localeCompare(`${b[0]}/${b[1]}`)),
    definitions: side.definitions.capture(),
  };
}
