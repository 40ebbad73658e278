/** An attempt the flow gate counts as out: its worker, and the half-open probe it holds, if any. */
export interface InflightEntry {
  readonly worker: string;
  readonly probe: number | null;
}

/**
 * The attempts in flight, by attempt key (`runId/phase/stepId/attempt`), with an index by the key's first
 * segment so that a run's attempts are found without scanning every attempt of every run. A run id may itself
 * hold a slash, so the index only narrows the search; `ofRun` still checks the whole prefix.
 */
export class InflightAttempts {
  private readonly entries = new Map<string, InflightEntry>();
  private readonly byHead = new Map<string, Set<string>>();

  has(key: string): boolean {
    return this.entries.has(key);
  }

  get(key: string): InflightEntry | undefined {
    return this.entries.get(key);
  }

  set(key: string, entry: InflightEntry): void {
    this.entries.set(key, entry);
    const head = headOf(key);
    let keys = this.byHead.get(head);
    if (keys === undefined) this.byHead.set(head, (keys = new Set()));
    keys.add(key);
  }

  delete(key: string): void {
    if (!this.entries.delete(key)) return;
    const head = headOf(key);
    const keys = this.byHead.get(head);
    keys?.delete(key);
    if (keys?.size === 0) this.byHead.delete(head);
  }

  /** The keys of the run's attempts in flight, copied (the caller may delete as it goes). */
  ofRun(runId: string): string[] {
    const prefix = `${runId}/`;
    return [...(this.byHead.get(headOf(prefix)) ?? [])].filter((key) => key.startsWith(prefix));
  }
}

function headOf(key: string): string {
  const slash = key.indexOf('/');
  return slash < 0 ? key : key.slice(0, slash);
}
