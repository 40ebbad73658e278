import { useCallback, useEffect, useState } from 'react';
import { describe, get } from '../api.ts';
import { ActionDialog } from '../components/ActionDialog.tsx';
import type { ActionRequest } from '../components/ActionDialog.tsx';
import { Chip, Guarded, Link, Problem, when } from '../components/bits.tsx';
import { useLiveRefresh } from '../live.ts';
import { refusal } from '../roles.ts';
import { samples } from '../prometheus.ts';
import type { HeldStep, Key, RunSummary, RunView } from '../types.ts';

interface Waiting {
  readonly run: Pick<RunSummary, 'id' | 'definitionId' | 'status'>;
  readonly stepId: string | null;
  readonly what: string;
  readonly kind: 'approval' | 'operator' | 'held';
  readonly since: string;
  readonly assignees?: readonly string[];
}

/** A step flow control holds, as the inbox lists it: the worker and why. */
function heldItem(step: HeldStep): Waiting {
  return {
    run: { id: step.runId, definitionId: step.definitionId, status: 'running' },
    stepId: step.stepId,
    what: `held by flow control: ${step.reason.replace(/_/g, ' ')} (worker ${step.worker}${step.phase === 'compensate' ? ', compensation' : ''})`,
    kind: 'held',
    since: step.since,
  };
}

/** Gates whose assignees the inbox looks up (one read of the run each); past this it lists them without. */
const ASSIGNEES_LOOKED_UP = 100;

/** Who may decide each gate: the step's assignees, from the run's view. */
async function withAssignees(gates: Waiting[]): Promise<Waiting[]> {
  return Promise.all(
    gates.map(async (gate, index) => {
      if (index >= ASSIGNEES_LOOKED_UP) return gate;
      const view = await get<{ run: RunView }>(`/v1/runs/${encodeURIComponent(gate.run.id)}`).catch(() => null);
      const assignees = view?.run.steps.find((s) => s.id === gate.stepId)?.assignees;
      return assignees ? { ...gate, assignees } : gate;
    }),
  );
}

/** Workers whose circuit breaker is open, from GET /metrics; none for a role that may not read it. */
async function openBreakers(): Promise<string[]> {
  const text = await get<string>('/metrics').catch(() => '');
  return samples(text, new Set(['orchestron_breaker_state']))
    .filter((s) => s.value === 1 && s.labels.worker)
    .map((s) => s.labels.worker as string);
}

/** At most one refresh of the whole list this often, however many events arrive: a burst of 1,000 runs is a few reads. */
const LIVE_MS = 1_000;

/** What waits for a person, oldest first: approval gates, runs that need an operator, and steps held by flow control. */
export function Inbox({ me }: { me: Key }) {
  const [items, setItems] = useState<Waiting[] | null>(null);
  const [breakers, setBreakers] = useState<string[]>([]);
  const [action, setAction] = useState<ActionRequest | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const load = useCallback(async () => {
    try {
      const [running, stuck, held] = await Promise.all([
        get<{ runs: RunSummary[] }>('/v1/runs?status=running&limit=1000'),
        get<{ runs: RunSummary[] }>('/v1/runs?status=needs_operator&limit=1000'),
        get<{ steps: HeldStep[] }>('/v1/held-steps?limit=1000'),
      ]);
      const gates = await withAssignees(
        running.runs.flatMap((run) =>
          run.waitingApproval.map((stepId) => ({
            run,
            stepId,
            what: 'approval',
            kind: 'approval' as const,
            since: run.updatedAt,
          })),
        ),
      );
      const operator = stuck.runs.map((run) => ({
        run,
        stepId: run.attention?.stepId ?? null,
        what: run.attention ? `${run.attention.code}: ${run.attention.message}` : 'needs an operator',
        kind: 'operator' as const,
        since: run.updatedAt,
      }));
      const items = [...gates, ...operator, ...held.steps.map(heldItem)];
      setItems(items.sort((a, b) => a.since.localeCompare(b.since)));
      setBreakers(refusal(me.role, 'history') ? [] : await openBreakers());
      setProblem(null);
    } catch (error) {
      setProblem(describe(error));
    }
  }, [me.role]);
  useEffect(() => {
    void load();
  }, [load]);
  useLiveRefresh('', () => void load(), LIVE_MS);
  const refused = refusal(me.role, 'act');
  const decide = (item: Waiting, verb: 'approve' | 'reject'): void =>
    setAction({
      title: `${verb === 'approve' ? 'Approve' : 'Reject'} ${item.stepId ?? ''}`,
      path: `/v1/runs/${encodeURIComponent(item.run.id)}/actions/${verb}`,
      body: { stepId: item.stepId },
    });
  return (
    <main id="main">
      <h1>Inbox</h1>
      <Problem text={problem} />
      {breakers.length > 0 ? (
        <p className="problem" role="status">
          Circuit breaker open: {breakers.join(', ')} (see <Link to="/health">Health</Link>)
        </p>
      ) : null}
      {items === null ? (
        <p>Loading…</p>
      ) : items.length === 0 ? (
        <p>Nothing waits for a person.</p>
      ) : (
        <ul className="inbox" aria-label="waiting for a person">
          {items.map((item) => (
            <li key={`${item.kind}/${item.run.id}/${item.stepId ?? ''}`} data-run={item.run.id} data-kind={item.kind}>
              <Chip
                status={item.kind === 'approval' ? 'waiting_approval' : item.kind === 'held' ? 'held' : item.run.status}
              />{' '}
              <Link to={`/runs/${encodeURIComponent(item.run.id)}`}>{item.run.id}</Link> · {item.run.definitionId}
              {item.stepId ? (
                <>
                  {' '}
                  · step <code>{item.stepId}</code>
                </>
              ) : null}{' '}
              · {item.what === 'approval' ? 'approval' : item.what}
              {item.assignees?.length ? ` for ${item.assignees.join(', ')}` : ''} · since {when(item.since)}
              {item.kind === 'approval' ? (
                <span className="buttons">
                  <Guarded refused={refused} className="primary" onClick={() => decide(item, 'approve')}>
                    Approve
                  </Guarded>
                  <Guarded refused={refused} onClick={() => decide(item, 'reject')}>
                    Reject
                  </Guarded>
                </span>
              ) : null}
            </li>
          ))}
        </ul>
      )}
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
