// Number formats and the table builder of the markdown report.
import type { Spread } from './stats.ts';

/** 3 significant-ish figures: 1234 → "1234", 12.34 → "12.3", 1.234 → "1.23", 0.01234 → "0.0123". */
export function num(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  const abs = Math.abs(value);
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  if (abs === 0) return '0';
  return value.toPrecision(3);
}

/** The median, and its spread over repetitions when there is one: `12.3 (11.0–14.1)`. */
export function spread(s: Spread | null | undefined, suffix = ''): string {
  if (!s) return '–';
  const median = `${num(s.median)}${suffix}`;
  return s.n > 1 && num(s.min) !== num(s.max) ? `${median} (${num(s.min)}–${num(s.max)})` : median;
}

export function ratio(s: Spread | null | undefined): string {
  return spread(s, '×');
}

export function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const escape = (cell: string): string => cell.replaceAll('|', '\\|').replaceAll('\n', ' ');
  return [
    `| ${head.map(escape).join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${row.map(escape).join(' | ')} |`),
  ].join('\n');
}
