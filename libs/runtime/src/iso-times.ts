// Times as epoch milliseconds and back, exactly as Date#toISOString writes them, without a Date per call: the
// checkpoint codec turns two times per run each way, and at 100,000 runs Date's own parsing and formatting were
// most of a save and of a restore.

const DAY_MS = 86_400_000;
/** 10000-01-01: from there on toISOString writes six-digit years. */
const LAST_MS = 253_402_300_800_000;
const TWO = Array.from({ length: 60 }, (_, value) => String(value).padStart(2, '0'));
const THREE = Array.from({ length: 1000 }, (_, value) => String(value).padStart(3, '0'));
/** `YYYY-MM-DDTHH:MM:SS.mmmZ`: the only text epochOf turns into a number. */
const CANONICAL = /^(\d{4}-\d{2}-\d{2}T)(\d{2}):(\d{2}):(\d{2})\.(\d{3})Z$/;

/** Whether isoOf can write `ms`: from 1970 to the end of year 9999. */
export function isIsoRange(ms: number): boolean {
  return ms >= 0 && ms < LAST_MS;
}

/**
 * Epoch milliseconds when `iso` is exactly what isoOf writes for them (a canonical UTC time), else undefined.
 * `days` caches each date part's first millisecond (or NaN for a date toISOString would not write).
 */
export function epochOf(iso: string, days: Map<string, number>): number | undefined {
  const match = CANONICAL.exec(iso);
  if (match === null) return undefined;
  const [, date, hours, minutes, seconds, millis] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  let start = days.get(date);
  if (start === undefined) {
    start = Date.parse(`${date}00:00:00.000Z`);
    if (!isIsoRange(start) || new Date(start).toISOString().slice(0, 11) !== date) start = Number.NaN;
    days.set(date, start);
  }
  const [h, m, s] = [Number(hours), Number(minutes), Number(seconds)];
  if (Number.isNaN(start) || h > 23 || m > 59 || s > 59) return undefined;
  return start + ((h * 60 + m) * 60 + s) * 1000 + Number(millis);
}

/** What `new Date(ms).toISOString()` gives, for 0 <= ms < year 10000. `days` caches each day's date part. */
export function isoOf(ms: number, days: Map<number, string>): string {
  const day = Math.floor(ms / DAY_MS);
  let date = days.get(day);
  if (date === undefined) {
    date = new Date(day * DAY_MS).toISOString().slice(0, 11);
    days.set(day, date);
  }
  const time = ms - day * DAY_MS;
  const hours = TWO[Math.floor(time / 3_600_000)] as string;
  const minutes = TWO[Math.floor(time / 60_000) % 60] as string;
  const seconds = TWO[Math.floor(time / 1000) % 60] as string;
  return `${date}${hours}:${minutes}:${seconds}.${THREE[time % 1000] as string}Z`;
}
