/** The lock screen after inactivity (ISSP 9.11.7): the same user signs in again to carry on where they were. */
import { useState, type FormEvent } from 'react';
import type { ApiClient, LoginResponse } from '../api';
import { translate, type Lang, type MessageKey } from '../i18n';
import { AuthFrame, loginErrorKey } from './Login';

export function LockScreen({
  lang,
  api,
  username,
  idleTimeoutSeconds,
  onUnlocked,
  onOtherUser,
}: {
  lang: Lang;
  api: ApiClient;
  username: string;
  idleTimeoutSeconds: number;
  onUnlocked(r: LoginResponse): void;
  onOtherUser(): void;
}) {
  const t = (k: MessageKey, p?: Record<string, string | number>) => translate(lang, k, p);
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ key: MessageKey; message: string } | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!password) return;
    setBusy(true);
    const r = await api.login(username, password);
    setBusy(false);
    setPassword('');
    if (r.ok) onUnlocked(r.value);
    else setError({ key: r.error.code === 'unauthenticated' ? 'lock.badPassword' : loginErrorKey(r.error), message: r.error.message });
  };

  return (
    <AuthFrame lang={lang}>
      <div className="lock-icon" aria-hidden="true">
        <svg viewBox="0 0 24 24" width="28" height="28">
          <path fill="currentColor" d="M18 8h-1V6a5 5 0 0 0-10 0v2H6a2 2 0 0 0-2 2v10a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V10a2 2 0 0 0-2-2Zm-6 9a2 2 0 1 1 0-4 2 2 0 0 1 0 4Zm3.1-9H8.9V6a3.1 3.1 0 0 1 6.2 0v2Z" />
        </svg>
      </div>
      <h1 data-testid="lock-screen">{t('lock.title')}</h1>
      <p className="muted">{t('lock.body', { minutes: Math.round(idleTimeoutSeconds / 60), user: username })}</p>
      {error && (
        <div className="notice notice-error" role="alert" data-testid="lock-error">
          {t(error.key, { message: error.message })}
        </div>
      )}
      <form onSubmit={submit} className="form" data-testid="lock-form">
        <label className="field">
          <span>{t('login.password')}</span>
          <input type="password" autoFocus autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} data-testid="lock-password" />
        </label>
        <button type="submit" className="btn btn-primary btn-block" disabled={busy || !password} data-testid="lock-submit">
          {busy ? t('login.submitting') : t('lock.unlock')}
        </button>
      </form>
      <p className="auth-foot">
        <button type="button" className="link" onClick={onOtherUser} data-testid="lock-other-user">
          {t('lock.other')}
        </button>
      </p>
    </AuthFrame>
  );
}
