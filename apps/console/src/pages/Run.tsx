import { useCallback, useEffect, useMemo, useState } from 'react';
import { ApiError, describe, get } from '../api.ts';
import { ActionDialog } from '../components/ActionDialog.tsx';
import type { ActionRequest } from '../components/ActionDialog.tsx';
import { budgetText, Chip, Guarded, Json, Problem, usageText, when } from '../components/bits.tsx';
import { Dag, joinText } from '../components/Dag.tsx';
import { shownStatus, StepDrawer } from '../components/StepDrawer.tsx';
import { Timeline } from '../components/Timeline.tsx';
import { useLiveRefresh } from '../live.ts';
import { refusal } from '../roles.ts';
import type { Definition, Key, RecordedEvent, RunView } from '../types.ts';

const RUN_ACTIONS = [
  ['pause', 'Pause'],
  ['resume', 'Resume'],
  ['compensate', 'Compensate'],
  ['cancel', 'Cancel'],
] as const;

/** One run: its DAG coloured by status, a step drawer, the history, and the operator actions. */
export function Run({ runId, me }: { runId: string; me: Key }) {
  const [run, setRun] = useState<RunView | null>(null);
  const [definition, setDefinition] = useState<Definition | null>(null);
  const [events, setEvents] = useState<RecordedEvent[] | string>([]);
  const [selected, setSelected] = useState<string | null>(null);
  const [action, setAction] = useState<ActionRequest | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const base = `/v1/runs/${encodeURIComponent(runId)}`;
  const load = useCallback(async () => {
    try {
      const answer = await get<{ run: RunView }>(base);
      setRun(answer.run);
      setProblem(null);
    } catch (error) {
      setProblem(describe(error));
    }
    try {
      setEvents((await get<{ events: RecordedEvent[] }>(`${base}/events`)).events);
    } catch (error) {
      setEvents(
        error instanceof ApiError && error.status === 403 ? (refusal(me.role, 'history') ?? '') : describe(error),
      );
    }
  }, [base, me.role]);
  useEffect(() => {
    void load();
  }, [load]);
  useLiveRefresh(`?run=${encodeURIComponent(runId)}`, () => void load(), 150);
  const definitionId = run?.definition.id;
  const definitionVersion = run?.definition.version;
  useEffect(() => {
    if (definitionId === undefined) return;
    get<{ definition: Definition }>(`/v1/definitions/${encodeURIComponent(definitionId)}?version=${definitionVersion}`)
      .then((answer) => setDefinition(answer.definition))
      .catch(() => setDefinition(null));
  }, [definitionId, definitionVersion]);
  const steps = useMemo(
    () =>
      (run?.steps ?? []).map((s) => ({
        id: s.id,
        needs: s.needs,
        status: shownStatus(s),
        join: joinText(definition?.steps[s.id]?.join),
        when: definition?.steps[s.id]?.when ?? null,
      })),
    [run, definition],
  );
  const traceId = useTraceId(runId);
  if (!run) return <main id="main">{problem ? <Problem text={problem} /> : <p>Loading…</p>}</main>;
  const step = run.steps.find((s) => s.id === selected) ?? null;
  const refused = refusal(me.role, 'act');
  const latest = typeof events === 'string' ? 0 : Math.max(0, events.length - 1);
  return (
    <main id="main" className="run-page">
      <h1>
        Run <code>{run.id}</code> <Chip status={run.status} />
      </h1>
      <p className="meta">
        {run.definition.id} v{run.definition.version} · started {when(run.createdAt)} by {run.startedBy} · updated{' '}
        {when(run.updatedAt)}
        {run.attention ? ` · needs an operator: ${run.attention.code} ${run.attention.message}` : ''}
        {run.usage ? ` · used ${usageText(run.usage)} of ${budgetText(run.budget)}` : ''}
      </p>
      <div className="buttons" aria-label="run actions">
        {RUN_ACTIONS.map(([name, title]) => (
          <Guarded
            key={name}
            refused={refused}
            onClick={() => setAction({ title: `${title} run`, path: `${base}/actions/${name}`, body: {} })}
          >
            {title}…
          </Guarded>
        ))}
        <Guarded
          refused={refused}
          onClick={() =>
            setAction({
              title: 'Fork run',
              path: `${base}/fork`,
              body: {},
              number: { field: 'at', label: 'From revision', value: latest },
            })
          }
        >
          Fork…
        </Guarded>
        {run.budget !== undefined || run.attention?.code === 'BUDGET.EXCEEDED' ? (
          <Guarded
            refused={refused}
            onClick={() =>
              setAction({
                title: 'Raise budget',
                path: `${base}/actions/raise-budget`,
                body: {},
                json: { field: 'budget', label: 'Budget', value: run.budget ?? { tokens: 10000 } },
              })
            }
          >
            Raise budget…
          </Guarded>
        ) : null}
      </div>
      <Problem text={problem} />
      <div className="run-layout">
        <Dag steps={steps} onSelect={setSelected} label="run graph" />
        {step ? (
          <StepDrawer
            runId={run.id}
            events={typeof events === 'string' ? null : events}
            step={step}
            me={me}
            traceId={traceId}
            inputSchema={definition?.steps[step.id]?.inputSchema}
            onAct={setAction}
            onClose={() => setSelected(null)}
          />
        ) : null}
      </div>
      <h2>Steps</h2>
      <ul className="step-list">
        {run.steps.map((s) => (
          <li key={s.id}>
            <button type="button" className="link" onClick={() => setSelected(s.id)} data-step={s.id}>
              {s.id}
            </button>{' '}
            <Chip status={shownStatus(s)} />
          </li>
        ))}
      </ul>
      <h2>Input</h2>
      <Json value={run.input} label="run input" />
      <h2>History</h2>
      {typeof events === 'string' ? <p>{events}</p> : <Timeline events={events} />}
      {action ? (
        <ActionDialog
          request={action}
          onClose={() => setAction(null)}
          onDone={() => {
            setAction(null);
            void load();
          }}
        />
      ) : null}
    </main>
  );
}

/** The run's trace id, as the runtime derives it: the first 32 hex digits of sha256(run id) (libs/telemetry). */
function useTraceId(runId: string): string | null {
  const [traceId, setTraceId] = useState<string | null>(null);
  useEffect(() => {
    if (!crypto.subtle) return;
    void crypto.subtle.digest('SHA-256', new TextEncoder().encode(runId)).then((hash) =>
      setTraceId(
        [...new Uint8Array(hash)]
          .slice(0, 16)
          .map((b) => b.toString(16).padStart(2, '0'))
          .join(''),
      ),
    );
  }, [runId]);
  return traceId;
}
