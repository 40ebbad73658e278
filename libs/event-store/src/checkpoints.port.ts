/**
 * How far a derived state goes, and the state itself: a read model's checkpoint at a global position of the log,
 * or a stream's snapshot at one of its revisions. Which one `position` is, is the caller's to say in the name.
 */
export interface Checkpoint {
  /** Non-negative integer: the global position (or stream revision) of the last event folded into `state`. */
  readonly position: number;
  /**
   * The state, as text the caller encodes and decodes (JSON as a rule). It must be well-formed Unicode without
   * U+0000, which is what JSON.stringify produces.
   */
  readonly state: string;
}

/**
 * An optional capability of an EventStore: named checkpoints beside the log, so a read model can start from where
 * it was instead of from position 0. Saving never appends to the log, so projections do not see their own saves.
 *
 * - `save` replaces what the name held, atomically: a reader sees the old checkpoint or the new one, whole, never
 *   a mix, and a failed save leaves the old one. The last save wins, whatever its position: a read model that
 *   had to start over (its checkpoint was ahead of a restored store) must be able to move it back.
 * - `load` answers undefined for a name never saved, and refuses a checkpoint that is not what was saved (altered
 *   or half-written behind the adapter's back) with CheckpointCorruptError: a caller never builds on bad state.
 * - Names are isolated from each other; one store may hold any number of them (one per read model, one per
 *   snapshotted stream).
 */
export interface CheckpointStore {
  load(name: string): Promise<Checkpoint | undefined>;
  save(name: string, checkpoint: Checkpoint): Promise<void>;
}
