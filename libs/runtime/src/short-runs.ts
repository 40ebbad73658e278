/**
 * Runs this process knows to be short: it started them, or folded their whole stream, and saw fewer events than a
 * snapshot is taken at. No snapshot can exist for such a run yet, so loading it again folds its stream without first
 * asking the store for a snapshot: one query instead of two. Only a hint: a run that grew past the interval
 * meanwhile is read whole, which is slower, never wrong (a snapshot is only a shortcut).
 */
export class ShortRuns {
  readonly #lengths = new Map<string, number>();
  readonly #every: number;
  readonly #max: number;

  /** `every`: the snapshot interval in events; `max`: how many runs to remember, oldest forgotten first. */
  constructor(every: number, max = 50_000) {
    this.#every = every;
    this.#max = max;
  }

  /** The run's stream was just folded whole: `length` events, and whether the run has ended. */
  seen(runId: string, length: number, ended: boolean): void {
    this.#lengths.delete(runId);
    if (ended || length >= this.#every) return;
    this.#lengths.set(runId, length);
    if (this.#lengths.size > this.#max) this.#lengths.delete(this.#lengths.keys().next().value as string);
  }

  isShort(runId: string): boolean {
    return this.#lengths.has(runId);
  }

  get size(): number {
    return this.#lengths.size;
  }
}
