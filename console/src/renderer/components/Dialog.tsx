/** A modal dialog frame (native <dialog>, so focus and Escape behave), and a delete confirmation built on it. */
import { useEffect, useRef, useState, type ReactNode } from 'react';
import type { ApiError, Result } from '../api';
import { useApp } from '../context';
import { ErrorMessage } from './ui';

export function Dialog({ title, onClose, children, footer, testid, wide }: { title: ReactNode; onClose(): void; children: ReactNode; footer?: ReactNode; testid: string; wide?: boolean }) {
  const { t } = useApp();
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal?.();
  }, []);
  return (
    <dialog ref={ref} className={`dialog ${wide ? 'dialog-wide' : ''}`} onCancel={onClose} data-testid={testid} aria-label={typeof title === 'string' ? title : undefined}>
      <div className="form">
        <header className="dialog-head">
          <h2>{title}</h2>
          <button type="button" className="icon-btn" onClick={onClose} aria-label={t('common.close')} data-testid={`${testid}-close`}>
            ×
          </button>
        </header>
        {children}
        {footer && <footer className="dialog-foot">{footer}</footer>}
      </div>
    </dialog>
  );
}

/** Asks before deleting; shows the collector's refusal in place instead of closing. */
export function ConfirmDelete({ title, body, onCancel, onConfirm, testid }: { title: string; body: string; onCancel(): void; onConfirm(): Promise<Result<unknown>>; testid: string }) {
  const { t } = useApp();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const confirm = async () => {
    setBusy(true);
    setError(null);
    const r = await onConfirm();
    setBusy(false);
    if (!r.ok) setError(r.error);
  };
  return (
    <Dialog
      title={title}
      onClose={onCancel}
      testid={testid}
      footer={
        <>
          <button type="button" className="btn" onClick={onCancel}>
            {t('common.cancel')}
          </button>
          <button type="button" className="btn btn-danger" onClick={confirm} disabled={busy} data-testid={`${testid}-confirm`}>
            {busy ? t('common.deleting') : t('common.delete')}
          </button>
        </>
      }
    >
      <p>{body}</p>
      {error && <ErrorMessage error={error} />}
    </Dialog>
  );
}
