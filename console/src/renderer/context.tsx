/** What every view reads: language, the API client, the signed-in user, live updates and notices. */
import { createContext, useCallback, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import type { ApiClient, ApiError, LiveMessage, Result, User } from './api';
import { errorKey, translate, type Lang, type MessageKey, type Params } from './i18n';

export interface Notice {
  id: number;
  kind: 'info' | 'success' | 'error';
  text: string;
}

export interface AppContextValue {
  lang: Lang;
  setLang(lang: Lang): void;
  t(key: MessageKey, params?: Params): string;
  /** The human sentence for an API error, in the user's language. */
  errorText(error: ApiError): string;
  api: ApiClient;
  user: User;
  /** The desktop app's collector URL; null in a browser (same origin). */
  collectorUrl: string | null;
  subscribeLive(listener: (m: LiveMessage) => void): () => void;
  notify(kind: Notice['kind'], text: string): void;
}

export const AppContext = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const v = useContext(AppContext);
  if (!v) throw new Error('useApp outside AppContext');
  return v;
}

export function makeErrorText(lang: Lang) {
  return (error: ApiError) => translate(lang, errorKey(error.code), { message: error.message });
}

export interface QueryState<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload(): void;
}

/**
 * Runs an API call when its inputs change. Keeps the previous data while a
 * new page loads (no flash), and ignores answers that arrive out of order.
 */
export function useQuery<T>(run: () => Promise<Result<T>>, deps: readonly unknown[]): QueryState<T> {
  const [state, setState] = useState<{ data: T | undefined; error: ApiError | undefined; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true,
  });
  const seq = useRef(0);
  const [nonce, setNonce] = useState(0);
  useEffect(() => {
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    void run().then((r) => {
      if (mine !== seq.current) return;
      setState((s) => (r.ok ? { data: r.value, error: undefined, loading: false } : { data: s.data, error: r.error, loading: false }));
    });
  }, [...deps, nonce]);
  const reload = useCallback(() => setNonce((n) => n + 1), []);
  return { ...state, reload };
}

export function useDebounced<T>(value: T, ms = 300): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const h = setTimeout(() => setV(value), ms);
    return () => clearTimeout(h);
  }, [value, ms]);
  return v;
}

/** The current time, ticking every minute so "open for" and "overdue" stay right on a screen left open. */
export function useNow(intervalMs = 60_000): Date {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const h = setInterval(() => setNow(new Date()), intervalMs);
    return () => clearInterval(h);
  }, [intervalMs]);
  return now;
}

export function Provider({ value, children }: { value: AppContextValue; children: ReactNode }) {
  return <AppContext.Provider value={value}>{children}</AppContext.Provider>;
}
