// Hand-written SVG (docs/adr/0015-hand-written-svg-charts.md): a line chart over categories and a grouped bar
// chart, both on a log-scale y axis, since the systems differ by orders of magnitude.

export interface Point {
  readonly y: number | null;
  /** The spread over repetitions, drawn as a whisker. */
  readonly lo?: number | null;
  readonly hi?: number | null;
}

export interface Series {
  readonly name: string;
  /** Default: the palette's colour for the series' index. */
  readonly color?: string;
  /** Drawn dashed (the floors, which are not systems). */
  readonly dashed?: boolean;
  /** One per category, in order. */
  readonly points: readonly Point[];
}

const W = 760;
const H = 420;
const M = { left: 70, right: 210, top: 40, bottom: 80 };
const PALETTE = ['#1b6ca8', '#d1495b', '#edae49', '#00798c', '#66a182', '#8d5a97', '#555555', '#e07a5f', '#2ec4b6'];

export const colorOf = (i: number): string => PALETTE[i % PALETTE.length] as string;

export function escapeXml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

/** Log-scale y: from the decade below the smallest value to the decade above the largest. */
export function logScale(values: readonly number[]): { y: (v: number) => number; ticks: number[] } {
  const positive = values.filter((v) => v > 0 && Number.isFinite(v));
  const lo = Math.floor(Math.log10(positive.length > 0 ? Math.min(...positive) : 1));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(positive.length > 0 ? Math.max(...positive) : 10)));
  const top = M.top;
  const bottom = H - M.bottom;
  const y = (v: number): number => bottom - ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * (bottom - top);
  const ticks: number[] = [];
  for (let e = lo; e <= hi; e++) ticks.push(10 ** e);
  return { y, ticks };
}

function frame(
  title: string,
  yLabel: string,
  xLabel: string,
  ticks: readonly number[],
  y: (v: number) => number,
): string[] {
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${M.left}" y="22" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    `<text transform="translate(16 ${(H - M.bottom + M.top) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(yLabel)}</text>`,
    `<text x="${(M.left + W - M.right) / 2}" y="${H - M.bottom + 40}" text-anchor="middle">${escapeXml(xLabel)}</text>`,
  ];
  for (const t of ticks) {
    const ty = y(t).toFixed(1);
    parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${ty}" y2="${ty}" stroke="#ddd"/>`);
    parts.push(
      `<text x="${M.left - 6}" y="${ty}" text-anchor="end" dominant-baseline="middle">${escapeXml(tickLabel(t))}</text>`,
    );
  }
  parts.push(`<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${H - M.bottom}" stroke="#333"/>`);
  parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}" stroke="#333"/>`);
  return parts;
}

function tickLabel(v: number): string {
  return v >= 1 ? String(v) : v.toPrecision(1);
}

function legend(series: readonly Series[]): string[] {
  return series.flatMap((s, i) => {
    const y = M.top + 8 + i * 18;
    const x = W - M.right + 16;
    return [
      `<rect x="${x}" y="${y - 9}" width="12" height="12" fill="${s.color ?? colorOf(i)}"/>`,
      `<text x="${x + 18}" y="${y + 1}">${escapeXml(s.name)}${s.dashed ? ' (floor)' : ''}</text>`,
    ];
  });
}

/** One line per series across `categories` (e.g. runs in flight), with min–max whiskers. */
export function lineChart(
  title: string,
  xLabel: string,
  yLabel: string,
  categories: readonly string[],
  series: readonly Series[],
): string {
  const values = series
    .flatMap((s) => s.points.flatMap((p) => [p.y, p.lo, p.hi]))
    .filter((v): v is number => typeof v === 'number');
  const { y, ticks } = logScale(values);
  const step = (W - M.left - M.right) / Math.max(1, categories.length);
  const x = (i: number): number => M.left + step * (i + 0.5);
  const parts = frame(title, yLabel, xLabel, ticks, y);
  categories.forEach((c, i) =>
    parts.push(`<text x="${x(i).toFixed(1)}" y="${H - M.bottom + 18}" text-anchor="middle">${escapeXml(c)}</text>`),
  );
  series.forEach((s, i) => {
    const color = s.color ?? colorOf(i);
    const known = s.points.map((p, j) => ({ p, j })).filter(({ p }) => p.y !== null);
    if (known.length > 1)
      parts.push(
        `<polyline fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''} points="${known.map(({ p, j }) => `${x(j).toFixed(1)},${y(p.y as number).toFixed(1)}`).join(' ')}"/>`,
      );
    for (const { p, j } of known) {
      if (typeof p.lo === 'number' && typeof p.hi === 'number')
        parts.push(
          `<line x1="${x(j).toFixed(1)}" x2="${x(j).toFixed(1)}" y1="${y(p.lo).toFixed(1)}" y2="${y(p.hi).toFixed(1)}" stroke="${color}"/>`,
        );
      parts.push(
        `<circle cx="${x(j).toFixed(1)}" cy="${y(p.y as number).toFixed(1)}" r="4" fill="${color}"><title>${escapeXml(`${s.name}: ${String(p.y)}`)}</title></circle>`,
      );
    }
  });
  return [...parts, ...legend(series), '</svg>'].join('\n');
}

/** For each group (a system), one bar per series (a percentile). */
export function groupedBars(
  title: string,
  yLabel: string,
  groups: readonly string[],
  series: readonly Series[],
): string {
  const values = series.flatMap((s) => s.points.map((p) => p.y)).filter((v): v is number => typeof v === 'number');
  const { y, ticks } = logScale(values);
  const groupWidth = (W - M.left - M.right) / Math.max(1, groups.length);
  const barWidth = (groupWidth * 0.8) / Math.max(1, series.length);
  const parts = frame(title, yLabel, '', ticks, y);
  const bottom = H - M.bottom;
  groups.forEach((g, gi) => {
    const x0 = M.left + gi * groupWidth + groupWidth * 0.1;
    const lx = (x0 + groupWidth * 0.4).toFixed(1);
    parts.push(
      `<text transform="translate(${lx} ${bottom + 14}) rotate(-30)" text-anchor="end" font-size="11">${escapeXml(g)}</text>`,
    );
    series.forEach((s, si) => {
      const v = s.points[gi]?.y;
      if (typeof v !== 'number') return;
      const top = y(v);
      parts.push(
        `<rect x="${(x0 + si * barWidth).toFixed(1)}" y="${top.toFixed(1)}" width="${(barWidth - 1).toFixed(1)}" height="${(bottom - top).toFixed(1)}" fill="${colorOf(si)}"><title>${escapeXml(`${g} ${s.name}: ${String(v)}`)}</title></rect>`,
      );
    });
  });
  return [...parts, ...legend(series), '</svg>'].join('\n');
}
