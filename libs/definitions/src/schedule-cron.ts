/**
 * Cron expressions in an IANA time zone, read by croner (docs/adr/0033-schedules.md): never parsed by hand. In the definitions lib because a definition declares
 * schedules too (and workflow-core builds on it). Only
 * pure arithmetic on instants the caller passes in; nothing here reads the clock.
 */
import { Cron } from 'croner';

/** Longer than any real cron expression; a bound on what is stored and echoed in errors. */
export const MAX_CRON_LENGTH = 100;
/** The longest IANA zone name is 32 characters (America/Argentina/ComodRivadavia). */
export const MAX_TIMEZONE_LENGTH = 64;

export interface CronRule {
  /** Five fields (minute precision) or six (seconds first), or a nickname such as `@hourly`. */
  readonly cron: string;
  /** An IANA time zone the fields are read in: `Europe/Paris`, `UTC`. */
  readonly timezone: string;
}

export interface CronProblem {
  readonly field: 'cron' | 'timezone';
  readonly message: string;
}

const NO_CONTROL = /^[^\p{Cc}]*$/u;
/** IANA names: Area/Location (letters, digits, _, -, +), or a single word such as UTC. Offsets and paths are refused. */
const IANA_ZONE = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9][A-Za-z0-9_+-]*){0,2}$/;

function cronOf(rule: CronRule): Cron {
  return new Cron(rule.cron, { paused: true, timezone: rule.timezone, mode: '5-or-6-parts' });
}

/** What is wrong with the rule, naming the field, or null; `from` is when it would start firing. */
export function cronProblem(rule: CronRule, from: number): CronProblem | null {
  const zone = timezoneProblem(rule.timezone);
  if (zone) return { field: 'timezone', message: zone };
  if (typeof rule.cron !== 'string' || rule.cron.trim() === '' || rule.cron.length > MAX_CRON_LENGTH)
    return { field: 'cron', message: `"cron" must be a cron expression of 1 to ${MAX_CRON_LENGTH} characters` };
  if (!NO_CONTROL.test(rule.cron)) return { field: 'cron', message: '"cron" must not contain control characters' };
  let next: number | null;
  try {
    next = nextFireAfter(rule, from);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return {
      field: 'cron',
      message: `"cron" is not a cron expression of 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first): ${reason}`,
    };
  }
  if (next === null) return { field: 'cron', message: `"cron" ${JSON.stringify(rule.cron)} never fires` };
  return null;
}

function timezoneProblem(timezone: unknown): string | null {
  const rule = `"timezone" must be an IANA time zone such as Europe/Paris or UTC (at most ${MAX_TIMEZONE_LENGTH} characters)`;
  if (typeof timezone !== 'string' || timezone.length > MAX_TIMEZONE_LENGTH || !IANA_ZONE.test(timezone)) return rule;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return null;
  } catch {
    return `${rule}; ${JSON.stringify(timezone)} is not one`;
  }
}

/** The first fire strictly after `after` (ms since the epoch), or null when the rule never fires again. */
export function nextFireAfter(rule: CronRule, after: number): number | null {
  return cronOf(rule).nextRun(new Date(after))?.getTime() ?? null;
}

/**
 * The newest fires in (`after`, `upTo`], oldest first, at most `limit` of them; `older` says whether fires in the
 * range came before those (they are not listed: a schedule every second, down for a week, has 604,800).
 */
export function firesBetween(
  rule: CronRule,
  after: number,
  upTo: number,
  limit: number,
): { fires: number[]; older: boolean } {
  if (upTo <= after || limit < 1) return { fires: [], older: false };
  const newest = cronOf(rule)
    .previousRuns(limit + 1, new Date(upTo + 1))
    .map((d) => d.getTime())
    .filter((t) => t > after && t <= upTo);
  const older = newest.length > limit;
  return { fires: newest.slice(0, limit).reverse(), older };
}
