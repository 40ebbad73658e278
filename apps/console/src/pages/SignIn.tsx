import { useId, useState } from 'react';
import { call, describe, storeKey } from '../api.ts';
import { Problem } from '../components/bits.tsx';
import type { Key } from '../types.ts';

/** Paste an API key; it is checked with GET /v1/whoami and kept in this tab's session storage only. */
export function SignIn({ onSignedIn }: { onSignedIn: (key: Key) => void }) {
  const [key, setKey] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const id = useId();
  const signIn = async (): Promise<void> => {
    try {
      const who = await call<{ key: Key }>('GET', '/v1/whoami', undefined, key.trim());
      storeKey(key.trim());
      onSignedIn(who.key);
    } catch (error) {
      setProblem(describe(error));
    }
  };
  return (
    <main className="signin" id="main">
      <h1>Orchestron console</h1>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void signIn();
        }}
      >
        <label htmlFor={id}>API key</label>
        <input
          id={id}
          type="password"
          autoComplete="off"
          value={key}
          onChange={(e) => setKey(e.target.value)}
          aria-describedby={`${id}-help`}
          required
        />
        <p id={`${id}-help`} className="help">
          The embedded server writes an admin key to <code>$ORCHESTRON_DATA/admin.key</code>; more keys come from{' '}
          <code>orchestron keys create</code>. The key stays in this tab&apos;s session storage only.
        </p>
        <Problem text={problem} />
        <button type="submit" className="primary">
          Sign in
        </button>
      </form>
    </main>
  );
}
