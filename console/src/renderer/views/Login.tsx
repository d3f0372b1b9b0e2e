/** Sign-in: a clear message for wrong credentials, too many attempts, and an expired session. */
import { useState, type FormEvent, type ReactNode } from 'react';
import type { ApiClient, ApiError, LoginResponse } from '../api';
import { BrandMark, LanguageSwitch } from '../components/Layout';
import { errorKey, translate, type Lang, type MessageKey } from '../i18n';

export type LoginNotice = 'expired' | 'logged-out';

export function loginErrorKey(error: ApiError): MessageKey {
  if (error.code === 'unauthenticated') return 'login.badCredentials';
  if (error.code === 'rate-limited') return 'login.rateLimited';
  return errorKey(error.code);
}

export function AuthFrame({ lang, setLang, children }: { lang: Lang; setLang?: (l: Lang) => void; children: ReactNode }) {
  return (
    <div className="auth-screen">
      <div className="auth-card">
        <div className="auth-brand">
          <BrandMark size={40} shield="#2f6fde" />
          <div>
            <div className="auth-name">Vigie</div>
            <div className="muted">{translate(lang, 'app.tagline')}</div>
          </div>
          {setLang && (
            <div className="auth-lang">
              <LanguageSwitch lang={lang} setLang={setLang} label={translate(lang, 'header.language')} />
            </div>
          )}
        </div>
        {children}
      </div>
    </div>
  );
}

export function Login({
  lang,
  setLang,
  api,
  notice,
  onLoggedIn,
  collectorUrl,
  onChangeCollector,
}: {
  lang: Lang;
  setLang(l: Lang): void;
  api: ApiClient;
  notice?: LoginNotice;
  onLoggedIn(r: LoginResponse): void;
  collectorUrl: string | null;
  onChangeCollector?: () => void;
}) {
  const t = (k: MessageKey, p?: Record<string, string | number>) => translate(lang, k, p);
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ key: MessageKey; message: string } | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!username.trim() || !password) {
      setError({ key: 'login.required', message: '' });
      return;
    }
    setBusy(true);
    setError(null);
    const r = await api.login(username.trim(), password);
    setBusy(false);
    if (r.ok) {
      setPassword('');
      onLoggedIn(r.value);
    } else {
      setPassword('');
      setError({ key: loginErrorKey(r.error), message: r.error.message });
    }
  };

  return (
    <AuthFrame lang={lang} setLang={setLang}>
      <h1>{t('login.title')}</h1>
      <p className="muted">{t('login.subtitle')}</p>
      {notice && !error && (
        <div className={`notice ${notice === 'expired' ? 'notice-warn' : 'notice-info'}`} role="status" data-testid="login-notice" data-notice={notice}>
          {t(notice === 'expired' ? 'login.expired' : 'login.loggedOut')}
        </div>
      )}
      {error && (
        <div className="notice notice-error" role="alert" data-testid="login-error" data-error={error.key}>
          {t(error.key, { message: error.message })}
        </div>
      )}
      <form onSubmit={submit} className="form" data-testid="login-form" noValidate>
        <label className="field">
          <span>{t('login.username')}</span>
          <input autoFocus autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} data-testid="login-username" name="username" />
        </label>
        <label className="field">
          <span>{t('login.password')}</span>
          <input type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} data-testid="login-password" name="password" />
        </label>
        <button type="submit" className="btn btn-primary btn-block" disabled={busy} data-testid="login-submit">
          {busy ? t('login.submitting') : t('login.submit')}
        </button>
      </form>
      <p className="auth-foot muted">{t('login.footer')}</p>
      {collectorUrl && (
        <p className="auth-foot muted">
          {t('header.collector')}: <code>{new URL(collectorUrl).host}</code>{' '}
          {onChangeCollector && (
            <button type="button" className="link" onClick={onChangeCollector}>
              {t('setup.change')}
            </button>
          )}
        </p>
      )}
    </AuthFrame>
  );
}
