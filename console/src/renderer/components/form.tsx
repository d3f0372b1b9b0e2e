/** What the editing forms share: one request at a time with its error, field-level validation messages, and the cancel/save buttons. */
import { useState, type FormEvent } from 'react';
import type { ApiError, Result } from '../api';
import { useApp } from '../context';
import type { MessageKey } from '../i18n';
import type { FormResult } from '../licenses';
import { ErrorMessage } from './ui';

/** Sends one request, keeping `busy` for the buttons and the collector's refusal for display. */
export function useSubmit() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const run = async <T,>(request: () => Promise<Result<T>>): Promise<Result<T>> => {
    setBusy(true);
    setError(null);
    const r = await request();
    setBusy(false);
    if (!r.ok) setError(r.error);
    return r;
  };
  return { busy, error, setError, run };
}

/**
 * A form validated in the console before it is sent: problems show under their
 * fields (data-testid `${testidPrefix}-error-${field}`) and nothing is sent
 * until there are none.
 */
export function useValidatedForm<F, K extends string, V>({
  initial,
  validate,
  save,
  onSaved,
  testidPrefix,
}: {
  initial: () => F;
  validate(form: F): FormResult<V, K>;
  save(value: V): Promise<Result<unknown>>;
  onSaved(): void;
  testidPrefix: string;
}) {
  const { t } = useApp();
  const [form, setForm] = useState<F>(initial);
  const [problems, setProblems] = useState<Partial<Record<K, MessageKey>>>({});
  const { busy, error, setError, run } = useSubmit();
  const set = (patch: Partial<F>) => setForm((f) => ({ ...f, ...patch }));
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    const v = validate(form);
    if (!v.ok) return setProblems(v.errors);
    setProblems({});
    const r = await run(() => save(v.value));
    if (r.ok) onSaved();
  };
  const problem = (field: K) => {
    const key = problems[field];
    return (
      key && (
        <small className="field-error" data-testid={`${testidPrefix}-error-${field}`}>
          {t(key)}
        </small>
      )
    );
  };
  return { form, set, submit, problem, busy, error };
}

/** The request's error spanning the whole grid of a `form-grid` form. */
export function FormError({ error }: { error: ApiError | null }) {
  return (
    error && (
      <div className="form-full">
        <ErrorMessage error={error} />
      </div>
    )
  );
}

/** Cancel and submit: in a dialog's footer (`dialog-foot`) or at the end of an inline form (`form-actions`). */
export function FormButtons({
  placement,
  busy,
  onCancel,
  submitTestid,
  cancelTestid,
  submitLabel,
}: {
  placement: 'dialog' | 'form';
  busy: boolean;
  onCancel(): void;
  submitTestid: string;
  cancelTestid?: string;
  submitLabel?: string;
}) {
  const { t } = useApp();
  const buttons = (
    <>
      <button type="button" className="btn" onClick={onCancel} data-testid={cancelTestid}>
        {t('common.cancel')}
      </button>
      <button type="submit" className="btn btn-primary" disabled={busy} data-testid={submitTestid}>
        {busy ? t('common.saving') : (submitLabel ?? t('common.save'))}
      </button>
    </>
  );
  return placement === 'dialog' ? <footer className="dialog-foot">{buttons}</footer> : <div className="form-actions">{buttons}</div>;
}
