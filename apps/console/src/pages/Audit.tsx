import { useId, useState } from 'react';
import { describe, get, storedKey } from '../api.ts';
import { Link, Problem, when } from '../components/bits.tsx';
import { AuditVerify } from './AuditVerify.tsx';

interface Hit {
  readonly position: number;
  readonly runId: string;
  readonly type: string;
  readonly recordedAt: string;
  readonly actor: string | null;
  readonly stepId: string | null;
  readonly policyId: string | null;
}

const FIELDS = ['run', 'definition', 'actor', 'type', 'step', 'policy'] as const;

/** Audit search across runs (GET /v1/audit/events), a run's NDJSON export (GET /v1/audit/export), and verify. */
export function Audit() {
  const [filter, setFilter] = useState<Record<string, string>>({});
  const [hits, setHits] = useState<Hit[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const id = useId();
  const query = (): string => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(filter)) if (v.trim()) params.set(k, v.trim());
    return params.toString();
  };
  const search = async (): Promise<void> => {
    try {
      setHits((await get<{ events: Hit[] }>(`/v1/audit/events?${query()}`)).events);
      setProblem(null);
    } catch (error) {
      setProblem(describe(error));
    }
  };
  const exportRun = async (): Promise<void> => {
    const run = filter.run?.trim();
    const response = await fetch(`/v1/audit/export${run ? `?run=${encodeURIComponent(run)}` : ''}`, {
      headers: { authorization: `Bearer ${storedKey() ?? ''}` },
    });
    if (!response.ok) {
      setProblem(`Refused — ${response.status} ${await response.text()}`);
      return;
    }
    const url = URL.createObjectURL(await response.blob());
    const a = document.createElement('a');
    a.href = url;
    a.download = `orchestron-audit${run ? `-${run}` : ''}.ndjson`;
    a.click();
    URL.revokeObjectURL(url);
  };
  return (
    <main id="main">
      <h1>Audit</h1>
      <form
        className="filters"
        onSubmit={(event) => {
          event.preventDefault();
          void search();
        }}
      >
        {FIELDS.map((field) => (
          <span key={field}>
            <label htmlFor={`${id}-${field}`}>{field}</label>
            <input
              id={`${id}-${field}`}
              value={filter[field] ?? ''}
              onChange={(e) => setFilter({ ...filter, [field]: e.target.value })}
            />
          </span>
        ))}
        <button type="submit" className="primary">
          Search
        </button>
        <button type="button" onClick={() => void exportRun()}>
          Export NDJSON
        </button>
      </form>
      <Problem text={problem} />
      <AuditVerify run={filter.run?.trim() ?? ''} />
      {hits === null ? null : (
        <table className="audit">
          <caption>{hits.length} events, oldest first</caption>
          <thead>
            <tr>
              <th scope="col">Position</th>
              <th scope="col">Run</th>
              <th scope="col">Type</th>
              <th scope="col">Step</th>
              <th scope="col">Actor</th>
              <th scope="col">Policy</th>
              <th scope="col">Recorded</th>
            </tr>
          </thead>
          <tbody>
            {hits.map((hit) => (
              <tr key={hit.position}>
                <td>{hit.position}</td>
                <td>
                  <Link to={`/runs/${encodeURIComponent(hit.runId)}`}>{hit.runId}</Link>
                </td>
                <td>{hit.type}</td>
                <td>{hit.stepId ?? ''}</td>
                <td>{hit.actor ?? ''}</td>
                <td>{hit.policyId ?? ''}</td>
                <td>{when(hit.recordedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}
