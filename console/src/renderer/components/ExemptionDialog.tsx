/** Grants an exemption: a reason and an expiry in the future. The collector records it in the audit log. */
import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { Exemption } from '../api';
import { useApp } from '../context';
import { dateInputValue, endOfDayIso, formatDate } from '../format';
import type { MessageKey } from '../i18n';
import { FormButtons, useSubmit } from './form';
import { ErrorMessage } from './ui';

export interface ExemptionTarget {
  deviceId: string;
  ruleId: string;
  hostname: string;
  ruleTitle: string;
}

/** The state behind "Exempt" buttons: `open(target)` shows the dialog; once granted it closes and `onGranted` refreshes what the page shows. */
export function useExemptionDialog(onGranted: () => void) {
  const [target, setTarget] = useState<ExemptionTarget | null>(null);
  const dialog = target && (
    <ExemptionDialog
      target={target}
      onClose={() => setTarget(null)}
      onGranted={() => {
        setTarget(null);
        onGranted();
      }}
    />
  );
  return { open: setTarget, dialog };
}

export function ExemptionDialog({ target, onClose, onGranted }: { target: ExemptionTarget; onClose(): void; onGranted(e: Exemption): void }) {
  const { t, api, lang, notify } = useApp();
  const [reason, setReason] = useState('');
  const [expires, setExpires] = useState(() => dateInputValue(new Date(Date.now() + 30 * 86_400_000)));
  const [problem, setProblem] = useState<MessageKey | null>(null);
  const { busy, error, setError, run } = useSubmit();
  const dialog = useRef<HTMLDialogElement>(null);

  useEffect(() => {
    const d = dialog.current;
    if (d && !d.open) d.showModal?.();
  }, []);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    if (!reason.trim()) return setProblem('exemption.reasonRequired');
    const iso = endOfDayIso(expires);
    if (!iso || new Date(iso).getTime() <= Date.now()) return setProblem('exemption.expiryFuture');
    setProblem(null);
    const r = await run(() => api.createExemption({ deviceId: target.deviceId, ruleId: target.ruleId, reason: reason.trim(), expiresAt: iso }));
    if (!r.ok) return;
    notify('success', t('exemption.granted', { date: formatDate(iso, lang) }));
    onGranted(r.value);
  };

  return (
    <dialog ref={dialog} className="dialog" onCancel={onClose} data-testid="exemption-dialog" aria-labelledby="exemption-title">
      <form onSubmit={submit} className="form" noValidate>
        <header className="dialog-head">
          <h2 id="exemption-title">{t('exemption.title')}</h2>
          <button type="button" className="icon-btn" onClick={onClose} aria-label={t('common.close')}>
            ×
          </button>
        </header>
        <p className="muted">{t('exemption.intro')}</p>
        <dl className="kv compact">
          <dt>{t('exemption.device')}</dt>
          <dd data-testid="exemption-device">{target.hostname}</dd>
          <dt>{t('exemption.rule')}</dt>
          <dd data-testid="exemption-rule">{target.ruleTitle}</dd>
        </dl>
        <label className="field">
          <span>{t('exemption.reason')}</span>
          <textarea rows={3} value={reason} onChange={(e) => setReason(e.target.value)} maxLength={2000} data-testid="exemption-reason" autoFocus />
          <small className="muted">{t('exemption.reasonHint')}</small>
        </label>
        <label className="field">
          <span>{t('exemption.expires')}</span>
          <input type="date" value={expires} min={dateInputValue(new Date(Date.now() + 86_400_000))} onChange={(e) => setExpires(e.target.value)} data-testid="exemption-expires" />
        </label>
        {problem && (
          <div className="notice notice-error" role="alert" data-testid="exemption-problem">
            {t(problem)}
          </div>
        )}
        {error && <ErrorMessage error={error} />}
        <FormButtons placement="dialog" busy={busy} onCancel={onClose} submitTestid="exemption-submit" cancelTestid="exemption-cancel" submitLabel={t('exemption.submit')} />
      </form>
    </dialog>
  );
}
