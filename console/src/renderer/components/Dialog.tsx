/** A modal dialog frame (native <dialog>, so focus and Escape behave), and a delete confirmation built on it. */
import { useEffect, useRef, type ReactNode } from 'react';
import type { Result } from '../api';
import { useApp } from '../context';
import { useSubmit } from './form';
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

/** Asks before deleting (or removing: `confirmLabel`, `busyLabel`); shows the collector's refusal in place instead of closing. */
export function ConfirmDelete({
  title,
  body,
  onCancel,
  onConfirm,
  testid,
  confirmLabel,
  busyLabel,
}: {
  title: string;
  body: string;
  onCancel(): void;
  onConfirm(): Promise<Result<unknown>>;
  testid: string;
  confirmLabel?: string;
  busyLabel?: string;
}) {
  const { t } = useApp();
  const { busy, error, run } = useSubmit();
  const confirm = () => run(onConfirm);
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
            {busy ? (busyLabel ?? t('common.deleting')) : (confirmLabel ?? t('common.delete'))}
          </button>
        </>
      }
    >
      <p>{body}</p>
      {error && <ErrorMessage error={error} />}
    </Dialog>
  );
}
