import { useEffect, useId, useMemo, useState } from 'react';
import { describe, get, post } from '../api.ts';
import { Problem } from '../components/bits.tsx';
import { Dag, joinText } from '../components/Dag.tsx';
import type { Definition } from '../types.ts';

interface Listed {
  readonly id: string;
  readonly tenant: string;
  readonly versions: readonly number[];
  readonly name: string | null;
}

interface Issue {
  readonly path: string;
  readonly message: string;
}

/** Every definition and its versions, one version's DAG, and a box that validates a definition on the server. */
export function Definitions({ initial }: { initial: string | null }) {
  const [list, setList] = useState<Listed[]>([]);
  const [chosen, setChosen] = useState<{ id: string; version: number } | null>(null);
  const [definition, setDefinition] = useState<Definition | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    get<{ definitions: Listed[] }>('/v1/definitions')
      .then((answer) => {
        setList(answer.definitions);
        const first = answer.definitions.find((d) => d.id === initial) ?? answer.definitions[0];
        if (first) setChosen({ id: first.id, version: Math.max(...first.versions) });
      })
      .catch((error: unknown) => setProblem(describe(error)));
  }, [initial]);
  useEffect(() => {
    if (!chosen) return;
    get<{ definition: Definition }>(`/v1/definitions/${encodeURIComponent(chosen.id)}?version=${chosen.version}`)
      .then((answer) => setDefinition(answer.definition))
      .catch((error: unknown) => setProblem(describe(error)));
  }, [chosen]);
  const steps = useMemo(
    () =>
      (definition ? definition.order.map((id) => definition.steps[id]).filter((s) => s !== undefined) : []).map(
        (s) => ({ id: s.id, needs: s.needs, join: joinText(s.join), when: s.when }),
      ),
    [definition],
  );
  return (
    <main id="main" className="definitions-page">
      <h1>Definitions</h1>
      <Problem text={problem} />
      <div className="definitions-layout">
        <nav aria-label="definitions">
          <ul>
            {list.map((d) => (
              <li key={`${d.tenant}/${d.id}`}>
                <strong>{d.name ?? d.id}</strong> <code>{d.id}</code>
                <div className="versions">
                  {d.versions.map((v) => (
                    <button
                      key={v}
                      type="button"
                      aria-pressed={chosen?.id === d.id && chosen.version === v}
                      onClick={() => setChosen({ id: d.id, version: v })}
                    >
                      v{v}
                    </button>
                  ))}
                </div>
              </li>
            ))}
          </ul>
        </nav>
        <section aria-label="definition">
          {definition ? (
            <>
              <h2>
                {definition.id} v{definition.version} · {steps.length} steps
              </h2>
              {definition.description ? <p>{definition.description}</p> : null}
              <Dag steps={steps} label="definition graph" />
            </>
          ) : (
            <p>No definition chosen.</p>
          )}
        </section>
      </div>
      <Validate />
    </main>
  );
}

function Validate() {
  const [text, setText] = useState('{\n  "id": "my-flow",\n  "version": 1,\n  "steps": {}\n}');
  const [issues, setIssues] = useState<readonly Issue[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const id = useId();
  const validate = async (): Promise<void> => {
    setProblem(null);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      setProblem(`not JSON: ${(error as Error).message}`);
      return;
    }
    try {
      setIssues((await post<{ issues: Issue[] }>('/v1/definitions/validate', body)).issues);
    } catch (error) {
      setProblem(describe(error));
    }
  };
  return (
    <section className="validate" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Validate a definition</h2>
      <label htmlFor={id}>Definition (JSON)</label>
      <textarea id={id} className="code" rows={10} value={text} onChange={(e) => setText(e.target.value)} />
      <button type="button" className="primary" onClick={() => void validate()}>
        Validate
      </button>
      <Problem text={problem} />
      {issues === null ? null : issues.length === 0 ? (
        <p role="status">Valid.</p>
      ) : (
        <div role="status">
          <ul className="issues" aria-label="problems">
            {issues.map((issue) => (
              <li key={`${issue.path}:${issue.message}`}>
                <code>{issue.path || '/'}</code> {issue.message}
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}
