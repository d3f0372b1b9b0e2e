/** First run of the desktop app: which collector, and which CA to trust for it (by fingerprint). */
import { useState, type FormEvent } from 'react';
import type { ConsoleBridge, ConsoleConfig } from '../../common/ipc';
import { translate, type Lang, type MessageKey } from '../i18n';
import { AuthFrame } from './Login';

export function Setup({ lang, setLang, bridge, onSaved }: { lang: Lang; setLang(l: Lang): void; bridge: ConsoleBridge; onSaved(c: ConsoleConfig): void }) {
  const t = (k: MessageKey) => translate(lang, k);
  const [url, setUrl] = useState('https://');
  const [fingerprint, setFingerprint] = useState('');
  const [error, setError] = useState<MessageKey | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    const r = await bridge.setCollector({ url, caFingerprint: fingerprint });
    setBusy(false);
    if (r.ok) onSaved(r.config);
    else setError(r.reason === 'invalid-url' ? 'setup.invalidUrl' : 'setup.invalidFingerprint');
  };

  return (
    <AuthFrame lang={lang} setLang={setLang}>
      <h1>{t('setup.title')}</h1>
      <p className="muted">{t('setup.body')}</p>
      {error && (
        <div className="notice notice-error" role="alert" data-testid="setup-error">
          {t(error)}
        </div>
      )}
      <form onSubmit={submit} className="form" data-testid="setup-form">
        <label className="field">
          <span>{t('setup.url')}</span>
          <input value={url} onChange={(e) => setUrl(e.target.value)} inputMode="url" spellCheck={false} data-testid="setup-url" />
        </label>
        <label className="field">
          <span>{t('setup.fingerprint')}</span>
          <input value={fingerprint} onChange={(e) => setFingerprint(e.target.value)} spellCheck={false} className="mono" placeholder="AB:CD:…" data-testid="setup-fingerprint" />
          <small className="muted">{t('setup.fingerprintHint')}</small>
        </label>
        <button type="submit" className="btn btn-primary btn-block" disabled={busy} data-testid="setup-submit">
          {t('setup.save')}
        </button>
      </form>
    </AuthFrame>
  );
}
