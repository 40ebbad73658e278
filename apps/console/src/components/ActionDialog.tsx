import { useEffect, useId, useRef, useState } from 'react';
import { describe, post } from '../api.ts';
import { Problem } from './bits.tsx';

/** An operator action as the API takes it: POST /v1/runs/:id/actions/:action (or /fork). */
export interface ActionRequest {
  readonly title: string;
  readonly path: string;
  readonly body: Record<string, unknown>;
  /** A JSON field the operator edits (a retry's input, a skip's output), with its starting value. */
  readonly json?: {
    readonly field: string;
    readonly label: string;
    readonly value: unknown;
    /** The step's inputSchema: the edit is checked against it here, as the API checks it again. */
    readonly schema?: object;
  };
  /** A number field (a fork's revision). */
  readonly number?: { readonly field: string; readonly label: string; readonly value: number };
  /** Where the reason is kept, when not in a run's history (a dead letter's replay). */
  readonly reasonLabel?: string;
}

/** Asks for a reason (and the JSON or number the action takes), sends it, and shows the API's code on a refusal. */
export function ActionDialog({
  request,
  onDone,
  onClose,
}: {
  request: ActionRequest;
  onDone: () => void;
  onClose: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [reason, setReason] = useState('');
  const [json, setJson] = useState(() => JSON.stringify(request.json?.value ?? null, null, 2));
  const [num, setNum] = useState(String(request.number?.value ?? 0));
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const ids = useId();
  useEffect(() => {
    dialog.current?.showModal();
  }, []);
  const parsed = (() => {
    if (!request.json) return { problem: null };
    try {
      return { problem: null, value: JSON.parse(json) as unknown };
    } catch (error) {
      return { problem: `not JSON: ${(error as Error).message}` };
    }
  })();
  const schemaProblem = useSchemaProblem(request.json?.schema, parsed);
  const jsonProblem = parsed.problem ?? schemaProblem;
  const send = async (): Promise<void> => {
    setBusy(true);
    setProblem(null);
    try {
      const body: Record<string, unknown> = { ...request.body, ...(reason.trim() ? { reason: reason.trim() } : {}) };
      if (request.json) body[request.json.field] = JSON.parse(json);
      if (request.number) body[request.number.field] = Number(num);
      await post(request.path, body);
      onDone();
    } catch (error) {
      setProblem(`Refused — ${describe(error)}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <dialog ref={dialog} className="action-dialog" aria-labelledby={`${ids}-title`} onClose={onClose}>
      <form
        method="dialog"
        onSubmit={(event) => {
          event.preventDefault();
          void send();
        }}
      >
        <h2 id={`${ids}-title`}>{request.title}</h2>
        <label htmlFor={`${ids}-reason`}>{request.reasonLabel ?? "Reason (kept in the run's history)"}</label>
        <textarea id={`${ids}-reason`} value={reason} onChange={(e) => setReason(e.target.value)} rows={2} />
        {request.json ? (
          <>
            <label htmlFor={`${ids}-json`}>{request.json.label} (JSON)</label>
            {request.json.schema ? (
              <p className="note" id={`${ids}-schema`}>
                Checked against the step's inputSchema here and by the API.
              </p>
            ) : null}
            <textarea
              id={`${ids}-json`}
              className="code"
              value={json}
              onChange={(e) => setJson(e.target.value)}
              rows={8}
              aria-invalid={typeof jsonProblem === 'string'}
            />
            <Problem text={jsonProblem ?? null} />
          </>
        ) : null}
        {request.number ? (
          <>
            <label htmlFor={`${ids}-num`}>{request.number.label}</label>
            <input id={`${ids}-num`} type="number" min={0} value={num} onChange={(e) => setNum(e.target.value)} />
          </>
        ) : null}
        <Problem text={problem} />
        <div className="buttons">
          <button type="submit" className="primary" disabled={busy || jsonProblem !== null}>
            {request.title}
          </button>
          <button type="button" onClick={() => dialog.current?.close()}>
            Close
          </button>
        </div>
      </form>
    </dialog>
  );
}

/**
 * The step's inputSchema problems with the parsed input: undefined while the check is loading (Ajv is a chunk of its
 * own, fetched the first time a step with a schema is edited), null when it fits or there is no schema.
 */
function useSchemaProblem(
  schema: object | undefined,
  parsed: { problem: string | null; value?: unknown },
): string | null | undefined {
  const [result, setResult] = useState<{ text: string; problem: string | null } | undefined>(undefined);
  const text = 'value' in parsed ? JSON.stringify(parsed.value) : '';
  useEffect(() => {
    if (!schema || !('value' in parsed)) return;
    let live = true;
    void import('../schema-check.ts').then(({ inputProblems }) => {
      const problems = inputProblems(schema, JSON.parse(text) as unknown);
      if (live)
        setResult({
          text,
          problem: problems.length > 0 ? `does not match the step's inputSchema: ${problems.join('; ')}` : null,
        });
    });
    return () => {
      live = false;
    };
    // `parsed` is this render's object: `text` stands for it.
  }, [schema, text]);
  if (!schema || !('value' in parsed)) return null;
  return result?.text === text ? result.problem : undefined;
}
