/**
 * `schedules:` in a definition: named cron rules that start runs of it (docs/schedules.md). The policies and their
 * bounds live here, below workflow-core, so the definition schema and the schedule decider share one list.
 */
import { cronProblem, MAX_CRON_LENGTH, MAX_TIMEZONE_LENGTH } from './schedule-cron.ts';
import type { CatchUpPolicy, DefinitionIssue, OverlapPolicy } from './types.ts';

export const OVERLAP_POLICIES: readonly OverlapPolicy[] = ['skip', 'buffer_one', 'allow'];
export const CATCH_UP_POLICIES: readonly CatchUpPolicy[] = ['none', 'latest', 'all'];
/** At most this many missed fires run after an outage with `catchUp: all`; the older ones are skipped. */
export const MAX_CATCH_UP = 100;
export const DEFAULT_MAX_CATCH_UP = 10;
/** Schedules one definition may declare. */
export const DECLARED_SCHEDULE_LIMIT = 20;
/** A schedule id is at most 64 characters; a declared one is `<definition id>.<name>`. */
const MAX_SCHEDULE_ID = 64;
const NAME_PATTERN = '^[a-z0-9][a-z0-9_-]{0,31}$';

/** The id of the schedule a definition declares under `name`. */
export const declaredScheduleId = (definitionId: string, name: string): string => `${definitionId}.${name}`;

export const schedulesSchema = {
  type: 'object',
  maxProperties: DECLARED_SCHEDULE_LIMIT,
  propertyNames: { type: 'string', pattern: NAME_PATTERN },
  description: `Named cron rules that start runs of this definition (its latest version), as schedule <id>.<name>; at most ${DECLARED_SCHEDULE_LIMIT}.`,
  additionalProperties: {
    type: 'object',
    additionalProperties: false,
    required: ['cron', 'timezone'],
    properties: {
      cron: {
        type: 'string',
        minLength: 1,
        maxLength: MAX_CRON_LENGTH,
        description: '5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first, or @daily…',
      },
      timezone: { type: 'string', minLength: 1, maxLength: MAX_TIMEZONE_LENGTH, description: 'an IANA time zone' },
      input: { description: 'the input of every run it starts (default null)' },
      overlap: { enum: [...OVERLAP_POLICIES], default: 'skip' },
      catchUp: { enum: [...CATCH_UP_POLICIES], default: 'latest' },
      maxCatchUp: { type: 'integer', minimum: 1, maximum: MAX_CATCH_UP, default: DEFAULT_MAX_CATCH_UP },
    },
  },
} as const;

/** What the schema cannot say: the rule must parse and fire, the zone must exist, the id must fit. */
export function checkSchedules(definitionId: unknown, schedules: unknown, issues: DefinitionIssue[]): void {
  if (schedules === null || typeof schedules !== 'object') return;
  for (const [name, raw] of Object.entries(schedules as Record<string, unknown>)) {
    if (raw === null || typeof raw !== 'object') continue;
    const rule = raw as { cron?: unknown; timezone?: unknown };
    if (typeof rule.cron !== 'string' || typeof rule.timezone !== 'string') continue;
    const problem = cronProblem({ cron: rule.cron, timezone: rule.timezone }, 0);
    if (problem) issues.push({ path: `/schedules/${name}/${problem.field}`, message: problem.message });
    if (typeof definitionId === 'string' && declaredScheduleId(definitionId, name).length > MAX_SCHEDULE_ID)
      issues.push({
        path: `/schedules/${name}`,
        message: `its schedule id ${declaredScheduleId(definitionId, name)} is over ${MAX_SCHEDULE_ID} characters: shorten the name or the definition id`,
      });
  }
}
