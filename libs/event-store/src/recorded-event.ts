/** An event as the store recorded it. */
export interface RecordedEvent {
  readonly id: string;
  readonly streamId: string;
  /** 0-based index of the event in its stream. */
  readonly revision: number;
  /** Global position: strictly increasing across all streams, starts at 1. */
  readonly position: number;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: Readonly<Record<string, unknown>>;
  /** ISO-8601 instant at which the store committed the event. */
  readonly recordedAt: string;
}
