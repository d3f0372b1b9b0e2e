/**
 * The console's states: first-run setup (desktop app without a collector),
 * sign-in, the app itself, and the lock screen after inactivity. The session
 * token lives in sessionStorage (gone with the tab) and is dropped, with a
 * server-side logout, when the session locks.
 */
import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { ConsoleBridge, ConsoleConfig } from '../common/ipc';
import { bridgeTransport, createApiClient, fetchTransport, type LiveMessage, type LoginResponse, type User } from './api';
import { AppContext, makeErrorText, type AppContextValue, type Notice } from './context';
import { activityEvents, createIdleTimer } from './idle';
import { languageStorageKey, pickLanguage, translate, type Lang } from './i18n';
import { connectLive, liveUrl, type LiveStatus } from './live';
import { parseRoute, type Route } from './route';
import { Layout } from './components/Layout';
import { Login, type LoginNotice } from './views/Login';
import { LockScreen } from './views/Lock';
import { Setup } from './views/Setup';
import { Overview } from './views/Overview';
import { Nonconformities } from './views/Nonconformities';
import { Devices } from './views/Devices';
import { DeviceDetail } from './views/DeviceDetail';
import { Audit } from './views/Audit';
import { Licenses } from './views/Licenses';
import { Software } from './views/Software';
import { UsbAuthorised } from './views/UsbAuthorised';

declare global {
  interface Window {
    /** Present in the desktop app only (preload); absent when the collector serves this page. */
    vigie?: ConsoleBridge;
  }
}

const sessionKey = 'vigie.session';
/** Used when the collector does not say: 15 minutes, the ISSP's screen-lock ceiling. */
const defaultIdleSeconds = 900;

interface Session {
  token: string;
  user: User;
  idleTimeoutSeconds: number;
}

function loadSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(sessionKey);
    if (!raw) return null;
    const s = JSON.parse(raw) as Session;
    return typeof s.token === 'string' && s.user && typeof s.user.username === 'string' ? s : null;
  } catch {
    return null;
  }
}

function saveSession(s: Session | null) {
  try {
    if (s) sessionStorage.setItem(sessionKey, JSON.stringify(s));
    else sessionStorage.removeItem(sessionKey);
  } catch {
    // storage disabled: the session lasts as long as the page
  }
}

function initialLang(): Lang {
  let stored: string | null;
  try {
    stored = localStorage.getItem(languageStorageKey);
  } catch {
    stored = null; // storage disabled
  }
  return pickLanguage(stored, navigator.languages?.length ? navigator.languages : [navigator.language]);
}

type Phase = { name: 'starting' } | { name: 'setup' } | { name: 'login'; notice?: LoginNotice } | { name: 'app' } | { name: 'locked'; username: string; idleTimeoutSeconds: number };

export function App() {
  const bridge = window.vigie;
  const [lang, setLangState] = useState<Lang>(initialLang);
  const [config, setConfig] = useState<ConsoleConfig | null>(null);
  const [session, setSession] = useState<Session | null>(() => loadSession());
  const [phase, setPhase] = useState<Phase>({ name: 'starting' });
  const [route, setRoute] = useState<Route>(() => parseRoute(location.hash));
  const [live, setLive] = useState<LiveStatus>('connecting');
  const [notices, setNotices] = useState<Notice[]>([]);
  const tokenRef = useRef<string | null>(session?.token ?? null);
  const listeners = useRef(new Set<(m: LiveMessage) => void>());

  const setLang = useCallback((l: Lang) => {
    setLangState(l);
    try {
      localStorage.setItem(languageStorageKey, l);
    } catch {
      // not persisted; still switched
    }
  }, []);
  useEffect(() => {
    document.documentElement.lang = lang;
    document.title = translate(lang, 'app.name');
  }, [lang]);

  const endSession = useCallback((next: Phase) => {
    tokenRef.current = null;
    saveSession(null);
    setSession(null);
    setPhase(next);
  }, []);

  const api = useMemo(
    () =>
      createApiClient({
        transport: bridge ? bridgeTransport(bridge) : fetchTransport(),
        getToken: () => tokenRef.current,
        onUnauthenticated: () => {
          if (tokenRef.current) endSession({ name: 'login', notice: 'expired' });
        },
      }),
    [bridge, endSession],
  );

  // Start: the desktop app needs a collector first; a stored session is checked with /me.
  useEffect(() => {
    let cancelled = false;
    void (async () => {
      if (bridge) {
        const c = await bridge.getConfig();
        if (cancelled) return;
        setConfig(c);
        if (!c.collectorUrl) return setPhase({ name: 'setup' });
      }
      if (!tokenRef.current) return setPhase({ name: 'login' });
      const me = await api.me();
      if (cancelled) return;
      if (me.ok) {
        setSession((s) => (s ? { ...s, user: me.value } : s));
        setPhase({ name: 'app' });
      } else if (me.error.code === 'unauthenticated') {
        endSession({ name: 'login', notice: 'expired' });
      } else {
        setPhase({ name: 'app' }); // the views show the network error and retry
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [api, bridge, endSession]);

  useEffect(() => {
    const onHash = () => setRoute(parseRoute(location.hash));
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  const onLoggedIn = useCallback((r: LoginResponse) => {
    const s: Session = { token: r.token, user: r.user, idleTimeoutSeconds: r.idleTimeoutSeconds > 0 ? r.idleTimeoutSeconds : defaultIdleSeconds };
    tokenRef.current = s.token;
    saveSession(s);
    setSession(s);
    setPhase({ name: 'app' });
  }, []);

  const lock = useCallback(() => {
    if (!session) return;
    void api.logout();
    const locked: Phase = { name: 'locked', username: session.user.username, idleTimeoutSeconds: session.idleTimeoutSeconds };
    endSession(locked);
  }, [api, endSession, session]);

  const logout = useCallback(() => {
    void api.logout();
    endSession({ name: 'login', notice: 'logged-out' });
  }, [api, endSession]);

  // Lock after inactivity (ISSP 9.11.7).
  useEffect(() => {
    if (phase.name !== 'app' || !session) return;
    const timer = createIdleTimer({ timeoutMs: session.idleTimeoutSeconds * 1000, onIdle: lock });
    const onActivity = () => timer.activity();
    for (const e of activityEvents) window.addEventListener(e, onActivity, { passive: true });
    return () => {
      timer.stop();
      for (const e of activityEvents) window.removeEventListener(e, onActivity);
    };
  }, [phase.name, session, lock]);

  // Live updates while signed in.
  useEffect(() => {
    if (phase.name !== 'app' || !session) return;
    const conn = connectLive(
      liveUrl(config?.collectorUrl ?? null, location),
      session.token,
      (m) => listeners.current.forEach((l) => l(m)),
      setLive,
    );
    return () => conn.close();
  }, [phase.name, session, config?.collectorUrl]);

  const notify = useCallback((kind: Notice['kind'], text: string) => {
    const id = Date.now() + Math.random();
    setNotices((n) => [...n.slice(-3), { id, kind, text }]);
    setTimeout(() => setNotices((n) => n.filter((x) => x.id !== id)), 6000);
  }, []);

  const changeCollector = useCallback(async () => {
    if (!bridge) return;
    void api.logout();
    tokenRef.current = null;
    saveSession(null);
    setSession(null);
    setConfig(await bridge.forgetCollector());
    setPhase({ name: 'setup' });
  }, [api, bridge]);

  const t = useCallback((key: Parameters<typeof translate>[1], params?: Parameters<typeof translate>[2]) => translate(lang, key, params), [lang]);
  const errorText = useMemo(() => makeErrorText(lang), [lang]);

  const ctx: AppContextValue | null = useMemo(
    () =>
      session
        ? {
            lang,
            setLang,
            t,
            errorText,
            api,
            user: session.user,
            collectorUrl: config?.collectorUrl ?? null,
            subscribeLive: (l) => {
              listeners.current.add(l);
              return () => listeners.current.delete(l);
            },
            notify,
          }
        : null,
    [lang, setLang, t, errorText, api, session, config?.collectorUrl, notify],
  );

  let body: ReactNode;
  if (phase.name === 'starting') {
    body = <div className="center-screen">{t('common.loading')}</div>;
  } else if (phase.name === 'setup' && bridge) {
    body = <Setup lang={lang} setLang={setLang} bridge={bridge} onSaved={(c: ConsoleConfig) => { setConfig(c); setPhase({ name: 'login' }); }} />;
  } else if (phase.name === 'login' || phase.name === 'setup') {
    body = <Login lang={lang} setLang={setLang} api={api} notice={phase.name === 'login' ? phase.notice : undefined} onLoggedIn={onLoggedIn} collectorUrl={config?.collectorUrl ?? null} onChangeCollector={bridge ? changeCollector : undefined} />;
  } else if (phase.name === 'locked') {
    body = <LockScreen lang={lang} api={api} username={phase.username} idleTimeoutSeconds={phase.idleTimeoutSeconds} onUnlocked={onLoggedIn} onOtherUser={() => setPhase({ name: 'login' })} />;
  } else if (ctx) {
    body = (
      <AppContext.Provider value={ctx}>
        <Layout current={route.name} live={live} onLogout={logout} onLock={lock} onChangeCollector={bridge ? changeCollector : undefined}>
          <View route={route} />
        </Layout>
      </AppContext.Provider>
    );
  } else {
    body = <div className="center-screen">{t('common.loading')}</div>;
  }

  return (
    <>
      {body}
      <div className="toasts" aria-live="polite">
        {notices.map((n) => (
          <div key={n.id} className={`toast toast-${n.kind}`} data-testid="toast">
            {n.text}
          </div>
        ))}
      </div>
    </>
  );
}

function View({ route }: { route: Route }) {
  switch (route.name) {
    case 'overview':
      return <Overview />;
    case 'nonconformities':
      return <Nonconformities params={route.params} />;
    case 'devices':
      return <Devices params={route.params} />;
    case 'device':
      return <DeviceDetail id={route.id ?? ''} key={route.id} />;
    case 'audit':
      return <Audit params={route.params} />;
    case 'licenses':
      return <Licenses params={route.params} />;
    case 'software':
      return <Software params={route.params} />;
    case 'usb':
      return <UsbAuthorised />;
  }
}

