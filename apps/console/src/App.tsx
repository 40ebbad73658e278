import { useEffect, useState } from 'react';
import { call, storeKey, storedKey } from './api.ts';
import { Link } from './components/bits.tsx';
import { Audit } from './pages/Audit.tsx';
import { Definitions } from './pages/Definitions.tsx';
import { Health } from './pages/Health.tsx';
import { Inbox } from './pages/Inbox.tsx';
import { Run } from './pages/Run.tsx';
import { Runs } from './pages/Runs.tsx';
import { SignIn } from './pages/SignIn.tsx';
import { navigate, useRoute } from './router.ts';
import { refusal } from './roles.ts';
import type { Key } from './types.ts';

type Theme = 'light' | 'dark';
const THEME_ITEM = 'orchestron.theme';

function initialTheme(): Theme {
  const saved = localStorage.getItem(THEME_ITEM);
  if (saved === 'light' || saved === 'dark') return saved;
  return window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

const PAGES = [
  ['/runs', 'Runs'],
  ['/inbox', 'Inbox'],
  ['/definitions', 'Definitions'],
  ['/audit', 'Audit'],
  ['/health', 'Health'],
] as const;

export function App() {
  const route = useRoute();
  const [me, setMe] = useState<Key | null>(null);
  const [checking, setChecking] = useState(storedKey() !== null);
  const [theme, setTheme] = useState<Theme>(initialTheme);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem(THEME_ITEM, theme);
  }, [theme]);
  useEffect(() => {
    if (storedKey() === null) return;
    call<{ key: Key }>('GET', '/v1/whoami')
      .then((answer) => setMe(answer.key))
      .catch(() => storeKey(null))
      .finally(() => setChecking(false));
  }, []);
  const themeButton = (
    <button type="button" onClick={() => setTheme(theme === 'dark' ? 'light' : 'dark')} aria-pressed={theme === 'dark'}>
      Dark theme
    </button>
  );
  if (checking) return <p>Checking the key…</p>;
  if (!me)
    return (
      <>
        <div className="topbar">{themeButton}</div>
        <SignIn onSignedIn={setMe} />
      </>
    );
  const path = route.split('?')[0] ?? '/';
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <strong>Orchestron</strong>
        <nav aria-label="pages">
          {PAGES.map(([to, name]) => (
            <Link key={to} to={to} className={path.startsWith(to) ? 'current' : ''}>
              {name}
            </Link>
          ))}
        </nav>
        <span className="who" data-role={me.role}>
          {me.subject} · {me.role} · {me.tenant}
        </span>
        {themeButton}
        <button
          type="button"
          onClick={() => {
            storeKey(null);
            setMe(null);
            navigate('/');
          }}
        >
          Sign out
        </button>
      </header>
      <Page path={path} route={route} me={me} />
    </>
  );
}

function Page({ path, route, me }: { path: string; route: string; me: Key }) {
  const run = /^\/runs\/([^/]+)$/.exec(path);
  if (run?.[1]) return <Run key={run[1]} runId={decodeURIComponent(run[1])} me={me} />;
  if (path.startsWith('/inbox')) return <Inbox me={me} />;
  if (path.startsWith('/definitions'))
    return <Definitions initial={new URLSearchParams(route.split('?')[1] ?? '').get('id')} />;
  const refused = refusal(me.role, 'history');
  if (path.startsWith('/audit')) return refused ? <Refused title="Audit" why={refused} /> : <Audit />;
  if (path.startsWith('/health')) return refused ? <Refused title="Health" why={refused} /> : <Health me={me} />;
  return <Runs />;
}

function Refused({ title, why }: { title: string; why: string }) {
  return (
    <main id="main">
      <h1>{title}</h1>
      <p>{why}</p>
    </main>
  );
}
