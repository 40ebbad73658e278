import { useState } from 'react';
import { describe, get } from '../api.ts';
import { Problem } from '../components/bits.tsx';

/** GET /v1/audit/verify's answer: the same report `orchestron audit verify` prints. */
interface Verification {
  readonly ok: boolean;
  readonly events: number;
  readonly streams: number;
  readonly checkpoint: { treeSize: number; rootHash: string; time: string; keyId: string } | null;
  readonly problem: { position: number | null; line: number; message: string } | null;
  readonly notes: readonly string[];
}

function verdict(v: Verification): string {
  if (v.problem !== null) {
    const where = v.problem.position === null ? '' : ` at position ${v.problem.position}`;
    return `FAILED${where} (line ${v.problem.line}): ${v.problem.message}`;
  }
  const cp = v.checkpoint;
  const against = cp ? ` against checkpoint ${cp.treeSize} (root ${cp.rootHash.slice(0, 16)}…, signed ${cp.time})` : '';
  return `Verified ${v.events} events in ${v.streams} stream${v.streams === 1 ? '' : 's'}${against}`;
}

/** Asks the server to check its log (a run's, or the whole of it for an admin) and shows pass, or the first bad position. */
export function AuditVerify({ run }: { run: string }) {
  const [result, setResult] = useState<Verification | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const verify = async (): Promise<void> => {
    setBusy(true);
    setResult(null);
    setProblem(null);
    try {
      const query = run ? `?run=${encodeURIComponent(run)}` : '';
      setResult((await get<{ verification: Verification }>(`/v1/audit/verify${query}`)).verification);
    } catch (error) {
      setProblem(`Refused — ${describe(error)}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="verify-title" className="verify">
      <h2 id="verify-title">Verify</h2>
      <p>
        The server checks {run ? `run ${run}'s events along its chain` : 'the whole log against its signed checkpoint'}{' '}
        with its own key: it catches a store changed behind its back. To trust no server, run{' '}
        <code>orchestron audit verify --public-key</code> on an export.
      </p>
      <button type="button" className="primary" disabled={busy} onClick={() => void verify()}>
        {busy ? 'Verifying…' : run ? 'Verify this run' : 'Verify the whole log'}
      </button>
      <Problem text={problem} />
      <div role="status" aria-live="polite">
        {result ? (
          <div className={`verdict ${result.ok ? 'pass' : 'fail'}`} data-ok={String(result.ok)}>
            <strong>{result.ok ? 'Passed' : 'Failed'}</strong> — {verdict(result)}
            {result.notes.length > 0 ? (
              <ul>
                {result.notes.map((note) => (
                  <li key={note}>{note}</li>
                ))}
              </ul>
            ) : null}
          </div>
        ) : null}
      </div>
    </section>
  );
}
