import { useVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useEffect, useId, useMemo, useRef, useState } from 'react';
import { describe, get } from '../api.ts';
import { Chip, Link, Problem, when } from '../components/bits.tsx';
import { useLiveRefresh } from '../live.ts';
import { markTiming } from '../timings.ts';
import { RUN_STATUSES } from '../types.ts';
import type { RunSummary } from '../types.ts';

const LIMIT = 1000;
const ROW_HEIGHT = 36;

/** At most one refresh of the whole list this often, however many events arrive: a burst of 1,000 runs is a few reads. */
const LIVE_MS = 1_000;

interface RunPage {
  readonly runs: RunSummary[];
  readonly nextCursor: string | null;
}

/** The first page, then the pages loaded past it that it does not repeat (a run that moved is in the first again). */
function merged(first: RunSummary[], rest: readonly RunSummary[]): RunSummary[] {
  const ids = new Set(first.map((r) => r.id));
  return [...first, ...rest.filter((r) => !ids.has(r.id))];
}

/**
 * The newest runs, a page of 1,000 at a time (the API's cursor), filtered by status, definition and text, found by
 * idempotency key, counted per status, kept live over SSE.
 */
export function Runs() {
  const [runs, setRuns] = useState<RunSummary[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [status, setStatus] = useState('');
  const [definition, setDefinition] = useState('');
  const [text, setText] = useState('');
  const [since, setSince] = useState('');
  const [keyText, setKeyText] = useState('');
  const [key, setKey] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const fetchedAt = useRef(0);
  const more = useRef<RunSummary[]>([]);
  const ids = useId();
  const page = useCallback(
    async (after: string | null): Promise<RunPage> => {
      const query = new URLSearchParams({ limit: String(LIMIT) });
      if (status) query.set('status', status);
      if (key) query.set('idempotencyKey', key);
      if (after) query.set('cursor', after);
      return get<RunPage>(`/v1/runs?${query.toString()}`);
    },
    [status, key],
  );
  const load = useCallback(async () => {
    try {
      const started = performance.now();
      const answer = await page(null);
      markTiming('runs:fetch', performance.now() - started);
      fetchedAt.current = performance.now();
      setRuns(merged(answer.runs, more.current));
      if (more.current.length === 0) setCursor(answer.nextCursor);
      setProblem(null);
    } catch (error) {
      setProblem(describe(error));
    }
  }, [page]);
  const loadMore = async (): Promise<void> => {
    try {
      const answer = await page(cursor);
      fetchedAt.current = performance.now();
      more.current = [...more.current, ...answer.runs];
      setRuns((now) => merged(now ?? [], more.current));
      setCursor(answer.nextCursor);
    } catch (error) {
      setProblem(describe(error));
    }
  };
  useEffect(() => {
    more.current = [];
    void load();
  }, [load]);
  useLiveRefresh('', () => void load(), LIVE_MS);
  const shown = useMemo(
    () =>
      (runs ?? []).filter(
        (r) =>
          (!definition || r.definitionId === definition) &&
          (!text || r.id.includes(text.trim())) &&
          (!since || Date.parse(r.createdAt) >= Date.parse(since)),
      ),
    [runs, definition, text, since],
  );
  const counts = useMemo(() => {
    const by = new Map<string, number>();
    for (const r of runs ?? []) by.set(r.status, (by.get(r.status) ?? 0) + 1);
    return by;
  }, [runs]);
  const definitions = useMemo(() => [...new Set((runs ?? []).map((r) => r.definitionId))].sort(), [runs]);
  return (
    <main id="main">
      <h1>Runs</h1>
      <ul className="counts" aria-label="runs per status">
        {RUN_STATUSES.map((s) => (
          <li key={s}>
            <Chip status={s} /> <span data-count={s}>{counts.get(s) ?? 0}</span>
          </li>
        ))}
      </ul>
      <div className="filters">
        <label htmlFor={`${ids}-status`}>Status</label>
        <select id={`${ids}-status`} value={status} onChange={(e) => setStatus(e.target.value)}>
          <option value="">any</option>
          {RUN_STATUSES.map((s) => (
            <option key={s} value={s}>
              {s.replace(/_/g, ' ')}
            </option>
          ))}
        </select>
        <label htmlFor={`${ids}-definition`}>Definition</label>
        <select id={`${ids}-definition`} value={definition} onChange={(e) => setDefinition(e.target.value)}>
          <option value="">any</option>
          {definitions.map((d) => (
            <option key={d} value={d}>
              {d}
            </option>
          ))}
        </select>
        <label htmlFor={`${ids}-text`}>Run id</label>
        <input id={`${ids}-text`} type="search" value={text} onChange={(e) => setText(e.target.value)} />
        <label htmlFor={`${ids}-since`}>Started since</label>
        <input id={`${ids}-since`} type="datetime-local" value={since} onChange={(e) => setSince(e.target.value)} />
      </div>
      <form
        className="filters"
        role="search"
        aria-label="find a run by idempotency key"
        onSubmit={(event) => {
          event.preventDefault();
          setKey(keyText.trim());
        }}
      >
        <label htmlFor={`${ids}-key`}>Idempotency key</label>
        <input id={`${ids}-key`} type="search" value={keyText} onChange={(e) => setKeyText(e.target.value)} />
        <button type="submit">Find</button>
        {key ? (
          <button
            type="button"
            onClick={() => {
              setKeyText('');
              setKey('');
            }}
          >
            Show all runs
          </button>
        ) : null}
      </form>
      <Problem text={problem} />
      {runs === null ? <p>Loading…</p> : <RunList runs={shown} fetchedAt={fetchedAt.current} />}
      {runs === null ? null : (
        <p className="paging" role="status">
          {runs.length.toLocaleString('en-US')} runs loaded{key ? ` with idempotency key "${key}"` : ''}
          {cursor ? '; older runs are on further pages. ' : ', all there are. '}
          {cursor ? (
            <button type="button" onClick={() => void loadMore()}>
              Load {LIMIT.toLocaleString('en-US')} more
            </button>
          ) : null}
        </p>
      )}
    </main>
  );
}

function RunList({ runs, fetchedAt }: { runs: readonly RunSummary[]; fetchedAt: number }) {
  const scroller = useRef<HTMLDivElement>(null);
  const rows = useVirtualizer({
    count: runs.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 10,
  });
  useEffect(() => {
    requestAnimationFrame(() => markTiming(`runs:render:${runs.length}`, performance.now() - fetchedAt));
  }, [runs, fetchedAt]);
  return (
    <div className="run-table" role="table" aria-label="runs" aria-rowcount={runs.length + 1} data-runs={runs.length}>
      <div role="rowgroup">
        <div className="run-row head" role="row" aria-rowindex={1}>
          <span role="columnheader">Run</span>
          <span role="columnheader">Definition</span>
          <span role="columnheader">Status</span>
          <span role="columnheader">Started</span>
          <span role="columnheader">Updated</span>
        </div>
      </div>
      <div ref={scroller} className="run-scroll" role="rowgroup" tabIndex={0} aria-label="run list, scrollable">
        <div role="presentation" style={{ height: rows.getTotalSize(), position: 'relative' }}>
          {rows.getVirtualItems().map((item) => {
            const run = runs[item.index] as RunSummary;
            return (
              <div
                key={run.id}
                className="run-row"
                role="row"
                aria-rowindex={item.index + 2}
                data-run={run.id}
                data-status={run.status}
                style={{ position: 'absolute', top: 0, left: 0, right: 0, transform: `translateY(${item.start}px)` }}
              >
                <span role="cell">
                  <Link to={`/runs/${encodeURIComponent(run.id)}`}>{run.id}</Link>
                </span>
                <span role="cell">
                  {run.definitionId} v{run.definitionVersion}
                </span>
                <span role="cell">
                  <Chip status={run.status} />
                </span>
                <span role="cell">{when(run.createdAt)}</span>
                <span role="cell">{when(run.updatedAt)}</span>
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
