/**
 * The authorised USB drives (ISSP 9.10.3): the storage devices the USB rule
 * accepts, per org or for every org, per unit (serial) or for any unit of a
 * model. Admins add and remove them; auditors and license managers read.
 * Drives are also authorised one at a time from a device's USB history.
 */
import { useState } from 'react';
import type { AuthorisedUsb } from '../api';
import { useApp, useQuery } from '../context';
import { useReference } from '../reference';
import { grantedEveryOrg } from '../access';
import { canRemoveUsb, emptyUsbForm, everyOrgValue, noteMax, serialMax, usbId, validateUsbForm } from '../usb';
import { ConfirmDelete } from '../components/Dialog';
import { FormError, useValidatedForm } from '../components/form';
import { Card, Empty, PageHeader, Pill, QueryStatus, Refreshing, Table, TitleReadOnly } from '../components/ui';

export function UsbAuthorised() {
  const { api, t, user, notify } = useApp();
  const isAdmin = user.role === 'admin';
  const list = useQuery(() => api.authorisedUsb(), [api]);
  const [removing, setRemoving] = useState<AuthorisedUsb | null>(null);
  const orgLabel = (org: string | null) => org ?? t('usb.everyOrg');
  const driveLabel = (a: AuthorisedUsb) => `${usbId(a)} · ${a.serial ?? t('usb.anyUnit').toLowerCase()}`;

  return (
    <>
      <PageHeader title={<TitleReadOnly title={t('usb.title')} readOnly={!isAdmin} testid="usb-readonly" />} subtitle={t('usb.subtitle')} />

      {isAdmin && <AddCard onAdded={list.reload} />}

      <Card title={t('usb.list')} testid="usb-list" actions={<Refreshing q={list} />}>
        <QueryStatus q={list} />
        {list.data && list.data.items.length === 0 && <Empty testid="usb-empty">{t('usb.empty')}</Empty>}
        {list.data && list.data.items.length > 0 && (
          // In the collector's order: every org's entries first, then by org, vendor, product and serial.
          <Table testid="usb-table" columns={['usb.col.org', 'usb.col.id', 'usb.col.serial', 'usb.col.note', isAdmin && <th aria-label={t('usb.remove')} />]}>
            {list.data.items.map((a) => (
              <tr key={a.id} data-testid="usb-row" data-id={a.id} data-org={a.org ?? ''} data-vendor={a.vendorId} data-product={a.productId} data-serial={a.serial ?? ''}>
                <td>{a.org === null ? <Pill tone="info">{orgLabel(null)}</Pill> : a.org}</td>
                <td className="mono nowrap">{usbId(a)}</td>
                <td>{a.serial === null ? <span className="muted">{t('usb.anyUnit')}</span> : <span className="mono">{a.serial}</span>}</td>
                <td>{a.note ?? <span className="muted">—</span>}</td>
                {isAdmin && (
                  <td className="nowrap row-actions">
                    {canRemoveUsb(user, a) ? (
                      <button type="button" className="btn btn-small btn-ghost-danger" onClick={() => setRemoving(a)} data-testid="usb-remove">
                        {t('usb.remove')}
                      </button>
                    ) : (
                      <span className="muted small" title={t('usb.removeEveryOrgOnly')} data-testid="usb-remove-forbidden">
                        {t('usb.removeEveryOrgOnlyShort')}
                      </span>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </Table>
        )}
      </Card>

      {removing && (
        <ConfirmDelete
          testid="usb-remove-dialog"
          title={t('usb.removeTitle')}
          body={t('usb.removeBody', { drive: driveLabel(removing), org: orgLabel(removing.org) })}
          confirmLabel={t('usb.remove')}
          busyLabel={t('usb.removing')}
          onCancel={() => setRemoving(null)}
          onConfirm={async () => {
            const r = await api.unauthoriseUsb(removing.id);
            if (r.ok) {
              setRemoving(null);
              notify('success', t('usb.removed', { drive: driveLabel(removing) }));
              list.reload();
            }
            return r;
          }}
        />
      )}
    </>
  );
}

/** Authorises a drive by its ids: the org (every org only for an admin granted every org), vendor and product, optionally one unit. */
function AddCard({ onAdded }: { onAdded(): void }) {
  const { api, t, user, notify } = useApp();
  const ref = useReference(api, user);
  const everyOrg = grantedEveryOrg(user);
  const { form, set, submit, problem, busy, error } = useValidatedForm({
    initial: () => emptyUsbForm(user),
    validate: validateUsbForm,
    save: (value) => api.authoriseUsb(value),
    onSaved: () => {
      // The org stays chosen for the next drive.
      set({ vendorId: '', productId: '', serial: '', note: '' });
      notify('success', t('usb.added'));
      onAdded();
    },
    testidPrefix: 'usb-form',
  });
  // The user's orgs; one no longer listed (a device moved) stays selectable rather than vanishing.
  const orgs = form.org && form.org !== everyOrgValue && !ref.orgs.includes(form.org) ? [form.org, ...ref.orgs] : ref.orgs;

  return (
    <Card title={t('usb.add')} testid="usb-add">
      <p className="card-hint">{t('usb.addHint')}</p>
      <form className="form form-grid" onSubmit={submit} noValidate data-testid="usb-form">
        <label className="field">
          <span>{t('usb.form.org')}</span>
          <select value={form.org} onChange={(e) => set({ org: e.target.value })} data-testid="usb-form-org">
            {everyOrg && <option value="">{t('usb.form.chooseOrg')}</option>}
            {everyOrg && <option value={everyOrgValue}>{t('usb.everyOrg')}</option>}
            {orgs.map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </select>
          {problem('org') ?? (form.org === everyOrgValue && <small className="muted">{t('usb.form.everyOrgHint')}</small>)}
        </label>
        <label className="field">
          <span>{t('usb.form.vendorId')}</span>
          <input className="mono" value={form.vendorId} onChange={(e) => set({ vendorId: e.target.value })} placeholder="0781" maxLength={6} autoComplete="off" spellCheck={false} data-testid="usb-form-vendor" />
          {problem('vendorId')}
        </label>
        <label className="field">
          <span>{t('usb.form.productId')}</span>
          <input className="mono" value={form.productId} onChange={(e) => set({ productId: e.target.value })} placeholder="5581" maxLength={6} autoComplete="off" spellCheck={false} data-testid="usb-form-product" />
          {problem('productId')}
        </label>
        <label className="field">
          <span>{t('usb.form.serial')}</span>
          <input className="mono" value={form.serial} onChange={(e) => set({ serial: e.target.value })} maxLength={serialMax} autoComplete="off" spellCheck={false} data-testid="usb-form-serial" />
          {problem('serial') ?? <small className="muted">{t('usb.form.serialHint')}</small>}
        </label>
        <label className="field">
          <span>{t('usb.form.note')}</span>
          <input value={form.note} onChange={(e) => set({ note: e.target.value })} maxLength={noteMax} data-testid="usb-form-note" />
          {problem('note') ?? <small className="muted">{t('usb.form.noteHint')}</small>}
        </label>
        <FormError error={error} />
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={busy} data-testid="usb-form-submit">
            {busy ? t('common.saving') : t('usb.form.submit')}
          </button>
        </div>
      </form>
    </Card>
  );
}
