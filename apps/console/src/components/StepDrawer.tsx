import { refusal } from '../roles.ts';
import type { Key, RecordedEvent, StepView } from '../types.ts';
import type { ActionRequest } from './ActionDialog.tsx';
import { Chip, Guarded, Json, usageText, when } from './bits.tsx';

/** What the console shows a step as: its status, or held (flow control) or compensated where that applies. */
export function shownStatus(step: StepView & { compensation?: { status: string } | null }): string {
  if (step.held) return 'held';
  if (step.compensation?.status === 'completed') return 'compensated';
  return step.status;
}

/** One step: input, output, error, attempts and timings, governance decision, and the actions on it. */
export function StepDrawer({
  runId,
  events,
  step,
  me,
  traceId,
  inputSchema,
  onAct,
  onClose,
}: {
  runId: string;
  /** The run's history, or null when the key's role may not read it. */
  events: readonly RecordedEvent[] | null;
  step: StepView;
  me: Key;
  traceId: string | null;
  /** The step's inputSchema from its definition, when it declares one. */
  inputSchema?: object | undefined;
  onAct: (request: ActionRequest) => void;
  onClose: () => void;
}) {
  const refused = refusal(me.role, 'act');
  const path = (action: string): string => `/v1/runs/${encodeURIComponent(runId)}/actions/${action}`;
  const act = (action: string, title: string, extra: Partial<ActionRequest> = {}): void =>
    onAct({ title, path: path(action), body: { stepId: step.id }, ...extra });
  return (
    <aside className="drawer" aria-label={`step ${step.id}`}>
      <header>
        <h2>
          {step.id} <Chip status={shownStatus(step)} />
        </h2>
        <button type="button" onClick={onClose} aria-label="close step">
          ×
        </button>
      </header>
      <dl>
        <dt>Type</dt>
        <dd>
          {step.type}
          {step.worker ? ` on ${step.worker}` : ''}
        </dd>
        <dt>Attempts</dt>
        <dd>{step.attempt}</dd>
        <dt>Started</dt>
        <dd>{when(step.startedAt)}</dd>
        <dt>Finished</dt>
        <dd>{when(step.finishedAt)}</dd>
        {step.assignees?.length ? (
          <>
            <dt>Assignees</dt>
            <dd>{step.assignees.join(', ')}</dd>
          </>
        ) : null}
        {step.waitsFor ? (
          <>
            <dt>Waits for</dt>
            <dd>
              event {step.waitsFor.event} with key “{step.waitsFor.key}” since {when(step.waitsFor.since)}
              {step.waitsFor.timeoutAt ? `, until ${when(step.waitsFor.timeoutAt)}` : ''}
            </dd>
          </>
        ) : null}
        {step.usage ? (
          <>
            <dt>Usage</dt>
            <dd>{usageText(step.usage)}</dd>
          </>
        ) : null}
        {step.held ? (
          <>
            <dt>Held</dt>
            <dd>
              {step.held.reason} ({step.held.worker}) since {when(step.held.since)}
            </dd>
          </>
        ) : null}
        <dt>Trace id</dt>
        <dd>{traceId ?? '—'}</dd>
      </dl>
      <h3>Attempts and their timings</h3>
      <Attempts events={events} stepId={step.id} />
      <h3>Governance decision</h3>
      <Json value={step.governance} label="governance decision" />
      <h3>Input</h3>
      <Json value={step.input} label="input" />
      <h3>Output</h3>
      <Json value={step.output} label="output" />
      <h3>Error</h3>
      <Json value={step.error} label="error" />
      <div className="buttons" aria-label="step actions">
        {step.status === 'waiting_approval' ? (
          <>
            <Guarded refused={refused} className="primary" onClick={() => act('approve', `Approve ${step.id}`)}>
              Approve
            </Guarded>
            <Guarded refused={refused} onClick={() => act('reject', `Reject ${step.id}`)}>
              Reject
            </Guarded>
          </>
        ) : null}
        <Guarded
          refused={refused}
          onClick={() =>
            act('retry', `Retry ${step.id}`, {
              json: {
                field: 'input',
                label: 'Input',
                value: step.input,
                ...(inputSchema ? { schema: inputSchema } : {}),
              },
            })
          }
        >
          Retry…
        </Guarded>
        <Guarded
          refused={refused}
          onClick={() => act('skip', `Skip ${step.id}`, { json: { field: 'output', label: 'Output', value: null } })}
        >
          Skip…
        </Guarded>
        <Guarded
          refused={refused}
          onClick={() =>
            act('redrive', `Re-drive from ${step.id}`, {
              json: {
                field: 'input',
                label: 'Input',
                value: step.input,
                ...(inputSchema ? { schema: inputSchema } : {}),
              },
            })
          }
        >
          Re-drive from here…
        </Guarded>
      </div>
    </aside>
  );
}

/** The step's own events (dispatched, started, completed, failed, retried, …) with their times and attempts. */
function Attempts({ events, stepId }: { events: readonly RecordedEvent[] | null; stepId: string }) {
  if (events === null) return <p>The history is not readable with this key.</p>;
  const mine = events.filter((e) => e.data?.stepId === stepId && e.type !== 'TimerScheduled');
  if (mine.length === 0) return <p>None yet.</p>;
  return (
    <ol className="attempts">
      {mine.map((e) => (
        <li key={e.position}>
          {e.type}
          {typeof e.data?.attempt === 'number' ? ` (attempt ${e.data.attempt})` : ''}{' '}
          <time dateTime={e.recordedAt}>{new Date(e.recordedAt).toLocaleTimeString()}</time>
        </li>
      ))}
    </ol>
  );
}
