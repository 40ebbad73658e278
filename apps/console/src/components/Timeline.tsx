import type { RecordedEvent } from '../types.ts';
import { when } from './bits.tsx';

const text = (value: unknown): string | null => (typeof value === 'string' && value ? value : null);

/** Every event of the run, oldest first, with who did it and why for operator events. */
export function Timeline({ events }: { events: readonly RecordedEvent[] }) {
  return (
    <ol className="timeline" aria-label="history">
      {events.map((event) => {
        const data = event.data ?? {};
        const actor = text(data.actor) ?? text(event.metadata?.actor);
        const reason = text(data.reason);
        const step = text(data.stepId);
        return (
          <li key={event.position} data-type={event.type}>
            <span className="rev">#{event.revision}</span> <strong>{event.type}</strong>
            {step ? <span> · {step}</span> : null}
            {actor ? <span className="actor"> · by {actor}</span> : null}
            {reason ? <span className="reason"> · “{reason}”</span> : null}
            <time dateTime={event.recordedAt}> {when(event.recordedAt)}</time>
          </li>
        );
      })}
    </ol>
  );
}
