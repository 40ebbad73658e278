import { useCallback, useEffect, useState } from 'react';
import { describe, get } from '../api.ts';
import { ActionDialog } from '../components/ActionDialog.tsx';
import type { ActionRequest } from '../components/ActionDialog.tsx';
import { Guarded, Link, Problem, when } from '../components/bits.tsx';
import { refusal } from '../roles.ts';
import type { DeadLetterView, Key } from '../types.ts';

const REFRESH_MS = 5_000;
const PREVIEW_CHARS = 80;

function preview(original: unknown): string {
  if (original === undefined) return '—';
  const text = JSON.stringify(original);
  return text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS)}…` : text;
}

function replays(letter: DeadLetterView): string {
  const last = letter.replays.at(-1);
  if (!last) return 'never';
  return `${letter.replays.length}× (last by ${last.actor}, ${when(last.at)}${last.reason ? `: ${last.reason}` : ''})`;
}

/** The dead-letter topic (GET /v1/dead-letters), each letter with its reason and a replay (operators and admins). */
export function DeadLetters({ me }: { me: Key }) {
  const [letters, setLetters] = useState<{ list: DeadLetterView[]; total: number } | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [action, setAction] = useState<ActionRequest | null>(null);
  const load = useCallback(async () => {
    try {
      const answer = await get<{ deadLetters: DeadLetterView[]; total: number }>('/v1/dead-letters?limit=1000');
      setLetters({ list: answer.deadLetters, total: answer.total });
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
  const refused = refusal(me.role, 'replay');
  const replay = (letter: DeadLetterView): void =>
    setAction({
      title: `Replay ${letter.position}`,
      path: '/v1/dead-letters/replay',
      body: { position: letter.position },
      reasonLabel: 'Reason (kept beside the dead letter)',
    });
  return (
    <section aria-labelledby="dlq-title">
      <h2 id="dlq-title">Dead letters</h2>
      <Problem text={problem} />
      {letters === null ? null : (
        <table className="audit dlq" data-letters={letters.total}>
          <caption>
            {letters.total} dead letter{letters.total === 1 ? '' : 's'} (oldest first); a replay republishes the
            original to its topic, and the letter stays listed
          </caption>
          <thead>
            <tr>
              <th scope="col">Position</th>
              <th scope="col">From</th>
              <th scope="col">Run</th>
              <th scope="col">Reason</th>
              <th scope="col">Original</th>
              <th scope="col">Replayed</th>
              <th scope="col">Action</th>
            </tr>
          </thead>
          <tbody>
            {letters.list.map((letter) => (
              <tr key={letter.position} data-position={letter.position}>
                <th scope="row">{letter.position}</th>
                <td>
                  {letter.topic}/{letter.partition}@{letter.offset}
                </td>
                <td>
                  {letter.runId ? (
                    <Link to={`/runs/${encodeURIComponent(letter.runId)}`}>{letter.runId}</Link>
                  ) : (
                    letter.key
                  )}
                </td>
                <td className="reason">{letter.reason}</td>
                <td>
                  {letter.notReplayable ? (
                    <span className="note">not replayable here: {letter.notReplayable}</span>
                  ) : (
                    <code>{preview(letter.original)}</code>
                  )}
                </td>
                <td>{replays(letter)}</td>
                <td>
                  <Guarded refused={refused} onClick={() => replay(letter)}>
                    Replay…
                  </Guarded>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
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
    </section>
  );
}
