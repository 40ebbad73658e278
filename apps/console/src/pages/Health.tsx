import { useCallback, useEffect, useState } from 'react';
import { describe, get } from '../api.ts';
import { Problem } from '../components/bits.tsx';
import { samples } from '../prometheus.ts';
import type { Sample } from '../prometheus.ts';
import type { Key } from '../types.ts';
import { DeadLetters } from './DeadLetters.tsx';

const WORKER_METRICS = {
  orchestron_breaker_state: 'breaker',
  orchestron_worker_inflight: 'inflight',
  orchestron_worker_limit: 'limit',
  orchestron_worker_rate: 'rate',
  orchestron_held_attempts: 'held',
} as const;
const NAMES = new Set([...Object.keys(WORKER_METRICS), 'orchestron_consumer_lag', 'orchestron_runs']);
const BREAKER = ['closed', 'open', 'half-open'];
const REFRESH_MS = 5_000;

type WorkerRow = Partial<Record<(typeof WORKER_METRICS)[keyof typeof WORKER_METRICS], number>>;

/**
 * Per worker: breaker, in flight, limit, rate and held; consumer lag; runs per status: from GET /metrics, every 5 s.
 * Below, the dead letters with their replay.
 */
export function Health({ me }: { me: Key }) {
  const [found, setFound] = useState<Sample[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const load = useCallback(async () => {
    try {
      setFound(samples(await get<string>('/metrics'), NAMES));
      setProblem(null);
    } catch (error) {
      setProblem(describe(error));
    }
  }, []);
  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), REFRESH_MS);
    return () => clearInterval(timer);
  }, [load]);
  const workers = new Map<string, WorkerRow>();
  for (const s of found ?? []) {
    const column = WORKER_METRICS[s.name as keyof typeof WORKER_METRICS];
    const worker = s.labels.worker;
    if (column && worker) workers.set(worker, { ...workers.get(worker), [column]: s.value });
  }
  const lag = (found ?? []).filter((s) => s.name === 'orchestron_consumer_lag');
  const runs = (found ?? []).filter((s) => s.name === 'orchestron_runs' && s.value > 0);
  return (
    <main id="main">
      <h1>Health</h1>
      <Problem text={problem} />
      <table className="audit">
        <caption>Workers (flow control)</caption>
        <thead>
          <tr>
            <th scope="col">Worker</th>
            <th scope="col">Breaker</th>
            <th scope="col">In flight</th>
            <th scope="col">Limit</th>
            <th scope="col">Rate /s</th>
            <th scope="col">Held</th>
          </tr>
        </thead>
        <tbody>
          {[...workers].sort().map(([worker, row]) => (
            <tr key={worker} data-worker={worker}>
              <th scope="row">{worker}</th>
              <td>{row.breaker === undefined ? '—' : (BREAKER[row.breaker] ?? row.breaker)}</td>
              <td>{row.inflight ?? '—'}</td>
              <td>{row.limit === undefined ? '—' : row.limit < 0 ? 'none' : row.limit}</td>
              <td>{row.rate === undefined ? '—' : row.rate < 0 ? 'none' : row.rate}</td>
              <td>{row.held ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <table className="audit">
        <caption>Runs per status</caption>
        <thead>
          <tr>
            <th scope="col">Tenant</th>
            <th scope="col">Status</th>
            <th scope="col">Runs</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((s) => (
            <tr key={`${s.labels.tenant}/${s.labels.status}`}>
              <td>{s.labels.tenant}</td>
              <td>{s.labels.status}</td>
              <td>{s.value}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <table className="audit">
        <caption>Consumer lag (Kafka tier)</caption>
        <thead>
          <tr>
            <th scope="col">Group</th>
            <th scope="col">Topic</th>
            <th scope="col">Partition</th>
            <th scope="col">Lag</th>
          </tr>
        </thead>
        <tbody>
          {lag.length === 0 ? (
            <tr>
              <td colSpan={4}>None reported (the embedded tier has no consumer groups).</td>
            </tr>
          ) : (
            lag.map((s) => (
              <tr key={`${s.labels.group}/${s.labels.topic}/${s.labels.partition}`}>
                <td>{s.labels.group}</td>
                <td>{s.labels.topic}</td>
                <td>{s.labels.partition}</td>
                <td>{s.value}</td>
              </tr>
            ))
          )}
        </tbody>
      </table>
      <DeadLetters me={me} />
    </main>
  );
}
