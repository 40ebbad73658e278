/** What /v1/schedules answers is libs/runtime's ScheduleView; what `schedule create` sends is the HTTP body below. */
export type { ScheduleFireView, ScheduleView } from '@orchestron/runtime';

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
