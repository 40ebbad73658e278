// Orchestron against each peer, figure by figure: the ratio within each repetition (both measured in the same
// sitting), then the median of those ratios with their spread.
import { METRICS } from './results.ts';
import type { Measurement, MetricName } from './results.ts';
import { spreadOf } from './stats.ts';
import type { Spread } from './stats.ts';
import { systemKind } from './types.ts';
import type { SystemName } from './types.ts';

export interface RatioRow {
  readonly orchestron: SystemName;
  readonly peer: SystemName;
  readonly caseId: string;
  /** orchestron ÷ peer per repetition, then median and min–max; null where either side has no figure. */
  readonly ratios: Record<MetricName, Spread | null>;
}

/** orchestron ÷ peer for each repetition both measured; a zero or missing denominator gives no ratio. */
export function perRepRatios(
  orchestron: readonly Measurement[],
  peer: readonly Measurement[],
  metric: MetricName,
): number[] {
  const ratios: number[] = [];
  for (const o of orchestron) {
    const p = peer.find((m) => m.rep === o.rep);
    const top = o.metrics[metric];
    const bottom = p?.metrics[metric];
    if (o.status !== 'ok' || p?.status !== 'ok' || top === null || bottom === null || bottom === undefined) continue;
    if (bottom === 0) continue;
    ratios.push(top / bottom);
  }
  return ratios;
}

/** Every Orchestron system against every peer, on every case both ran. */
export function computeRatios(measurements: readonly Measurement[], caseIds: readonly string[]): RatioRow[] {
  const systems = [...new Set(measurements.map((m) => m.system))];
  const orchestrons = systems.filter((s) => systemKind(s) === 'orchestron');
  const peers = systems.filter((s) => systemKind(s) === 'peer');
  const rows: RatioRow[] = [];
  for (const caseId of caseIds) {
    const of = (system: SystemName) => measurements.filter((m) => m.system === system && m.caseId === caseId);
    for (const orchestron of orchestrons)
      for (const peer of peers) {
        const o = of(orchestron);
        const p = of(peer);
        if (o.length === 0 || p.length === 0) continue;
        const ratios = Object.fromEntries(
          METRICS.map((metric) => [metric, spreadOf(perRepRatios(o, p, metric))]),
        ) as Record<MetricName, Spread | null>;
        rows.push({ orchestron, peer, caseId, ratios });
      }
  }
  return rows;
}
