/**
 * What the dead-letter and held-step routes answer (docs/api.md). Plain types with no imports, so the web console
 * takes them from here (a type-only import, erased from its bundle) instead of declaring them again.
 */

/** One replay of a dead letter, as the server remembers it beside the letter (a DLQ record cannot change). */
export interface DeadLetterReplay {
  readonly at: string;
  readonly actor: string;
  readonly reason: string | null;
}

/** GET /v1/dead-letters: where a letter came from, why, and what it held (the original, when JSON). */
export interface DeadLetterView {
  /** `partition:offset` in the dead-letter topic: what `orchestron dlq replay` takes too. */
  readonly position: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: string;
  readonly reason: string;
  readonly group: string | null;
  readonly receivedAt: string;
  /** The run the letter is about, when its key names one the caller may see. */
  readonly runId: string | null;
  readonly original: unknown;
  readonly replayable: boolean;
  readonly notReplayable: string | null;
  readonly replays: readonly DeadLetterReplay[];
}

/** GET /v1/held-steps: a step flow control holds (its worker at its concurrency limit, out of rate, or its breaker open). */
export interface HeldStepView {
  readonly runId: string;
  readonly tenant: string;
  readonly definitionId: string;
  readonly stepId: string;
  readonly worker: string;
  /** concurrency_limit, rate_limit or breaker_open. */
  readonly reason: string;
  readonly since: string;
  /** `compensate` when it is the step's compensation that is held. */
  readonly phase: 'execute' | 'compensate';
}
