/** What /v1/schedules answers (libs/runtime's ScheduleView), as the CLI reads it. */
export interface ScheduleFireView {
  readonly fireAt: string;
  readonly runId: string;
  readonly idempotencyKey: string;
  readonly recordedAt: string;
  readonly catchUp: boolean;
  readonly failed?: { readonly code: string; readonly message: string };
}

export interface ScheduleView {
  readonly id: string;
  readonly tenant: string;
  readonly status: 'active' | 'paused';
  readonly definitionId: string;
  readonly definitionVersion: number | null;
  readonly cron: string;
  readonly timezone: string;
  readonly input: unknown;
  readonly overlap: string;
  readonly catchUp: string;
  readonly maxCatchUp: number;
  readonly createdAt: string;
  readonly pausedAt: string | null;
  readonly nextFireAt: string | null;
  readonly lastFire: ScheduleFireView | null;
  readonly bufferedFireAt: string | null;
  readonly fired: number;
  readonly skipped: number;
}

export interface CreateScheduleRequest {
  readonly id: string;
  readonly definitionId: string;
  readonly definitionVersion?: number;
  readonly cron: string;
  readonly timezone: string;
  readonly input?: unknown;
  readonly overlap?: string;
  readonly catchUp?: string;
  readonly maxCatchUp?: number;
  readonly tenant?: string;
}
