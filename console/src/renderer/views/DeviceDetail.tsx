/**
 * One device: owner, org and CIAT level (editable by admins), each rule's
 * evidence, volumes with their encryption, screen-lock values, software with
 * its approval, USB history and a timeline of changes.
 */
import { useEffect, useMemo, useState, type FormEvent, type ReactNode } from 'react';
import type { ScreenlockFacts, UsbDevice, Volume } from '@vigie/shared';
import { isUnknown } from '../facts';
import { localTitle, type ApiError, type DeviceDetail as Detail, type DeviceStatus, type SoftwareRow } from '../api';
import { useApp, useNow, useQuery } from '../context';
import { formatAgo, formatDate, formatDateTime, formatDuration, formatSeconds, parseDate } from '../format';
import type { MessageKey } from '../i18n';
import { useReference } from '../reference';
import { href } from '../route';
import { useExemptionDialog } from '../components/ExemptionDialog';
import { FormButtons } from '../components/form';
import { Card, Empty, ErrorMessage, IsspRefs, Pill, QueryStatus, SeverityBadge, Table, type Tone } from '../components/ui';
import { osLabel } from './Devices';

const findingTone: Record<string, Tone> = { pass: 'good', fail: 'bad', unknown: 'neutral' };
const statusTone: Record<DeviceStatus, Tone> = { compliant: 'good', noncompliant: 'bad', unknown: 'neutral' };
const approvalTone: Record<string, Tone> = { approved: 'good', denied: 'bad', unreviewed: 'warn' };
const SOFTWARE_SHOWN = 300;

export function DeviceDetail({ id }: { id: string }) {
  const { api, t, subscribeLive } = useApp();
  const q = useQuery(() => api.device(id), [api, id]);
  useEffect(() => subscribeLive((m) => m.type === 'device-updated' && m.deviceId === id && q.reload()), [subscribeLive, id, q.reload]);

  return (
    <>
      <a className="back" href={href('devices')} onClick={(e) => { if (history.length > 1) { e.preventDefault(); history.back(); } }} data-testid="device-back">
        ← {t('device.back')}
      </a>
      <QueryStatus q={q} />
      {q.data && <DeviceBody d={q.data} reload={q.reload} />}
    </>
  );
}

function DeviceBody({ d, reload }: { d: Detail; reload(): void }) {
  const { t, lang, user } = useApp();
  const now = useNow();
  const exemption = useExemptionDialog(reload);
  const dev = d.device;
  const facts = d.facts;
  const openNcByRule = new Map(d.nonconformities.filter((n) => n.status === 'open').map((n) => [n.ruleId, n]));

  return (
    <div className="device" data-testid="device-detail" data-id={dev.id}>
      <div className="page-head">
        <div>
          <h1 data-testid="device-hostname">
            {dev.hostname} <Pill tone={statusTone[dev.status]} testid="device-status">{t(`deviceStatus.${dev.status}`)}</Pill>
            {dev.revoked && <Pill tone="neutral">{t('device.revoked')}</Pill>}
          </h1>
          <p className="subtitle">
            {osLabel[dev.os] ?? dev.os} {dev.osVersion} · {dev.model} · {t('device.lastSeen')} {formatAgo(dev.lastSeenAt, now, lang)}
          </p>
        </div>
      </div>

      <div className="grid-detail">
        <IdentityCard d={d} onSaved={reload} />
        <Card title={t('device.screenlock')} testid="device-screenlock">
          <ScreenLock section={facts?.screenlock} />
        </Card>
      </div>

      <Card title={t('device.rules')} testid="device-findings">
        {d.findings.length === 0 ? (
          <Empty>{t('device.rulesEmpty')}</Empty>
        ) : (
          <Table columns={['device.col.rule', 'device.col.status', 'device.col.severity', 'device.col.evidence', user.role === 'admin' && <th aria-label={t('nc.exempt')} />]}>
            {d.findings.map((f) => {
              const nc = openNcByRule.get(f.ruleId);
              const title = localTitle(f.title, lang, f.ruleId);
              return (
                <tr key={f.ruleId} data-testid="device-finding" data-rule={f.ruleId} data-status={f.status}>
                  <td>
                    <div>{title}</div>
                    <IsspRefs refs={f.issp} />
                  </td>
                  <td>
                    <Pill tone={findingTone[f.status] ?? 'neutral'}>{t(`finding.${f.status}`)}</Pill>
                  </td>
                  <td>
                    <SeverityBadge severity={f.severity} />
                  </td>
                  <td className="evidence-full" data-testid="device-evidence">
                    {f.evidence}
                  </td>
                  {user.role === 'admin' && (
                    <td>
                      {f.status === 'fail' && nc && (
                        <button type="button" className="btn btn-small" data-testid="device-exempt" onClick={() => exemption.open({ deviceId: dev.id, ruleId: f.ruleId, hostname: dev.hostname, ruleTitle: title })}>
                          {t('nc.exempt')}
                        </button>
                      )}
                    </td>
                  )}
                </tr>
              );
            })}
          </Table>
        )}
      </Card>

      <Card title={t('device.ncTitle')} testid="device-nonconformities">
        {d.nonconformities.length === 0 ? (
          <Empty>{t('device.ncEmpty')}</Empty>
        ) : (
          <Table columns={['nc.col.rule', 'nc.col.severity', 'nc.col.open', 'nc.col.due', 'nc.col.status']}>
            {d.nonconformities.map((n) => {
              const first = parseDate(n.firstSeenAt);
              const end = n.status === 'resolved' ? (parseDate(n.resolvedAt) ?? now) : now;
              const overdue = n.status === 'open' && (parseDate(n.dueAt)?.getTime() ?? Infinity) < now.getTime();
              return (
                <tr key={n.id} className={overdue ? 'row-overdue' : ''} data-testid="device-nc-row" data-status={n.status}>
                  <td>{localTitle(n.title, lang, n.ruleId)}</td>
                  <td>
                    <SeverityBadge severity={n.severity} />
                  </td>
                  <td>{first ? formatDuration(end.getTime() - first.getTime(), lang) : '—'}</td>
                  <td className={overdue ? 'due-overdue' : ''}>{formatDate(n.dueAt, lang)}</td>
                  <td>
                    <Pill tone={n.status === 'open' ? 'bad' : n.status === 'exempted' ? 'info' : 'good'}>{t(`ncStatus.${n.status}`)}</Pill>
                    {n.exemption && (
                      <div className="muted small" data-testid="device-exemption">
                        {t('nc.exemptedUntil', { date: formatDate(n.exemption.expiresAt, lang) })} {t('exemption.by', { user: n.exemption.grantedBy })} — {n.exemption.reason}
                      </div>
                    )}
                  </td>
                </tr>
              );
            })}
          </Table>
        )}
      </Card>

      <Card title={t('device.volumes')} testid="device-volumes">
        {!facts ? <Empty>{t('device.noFacts')}</Empty> : isUnknown(facts.encryption) ? <UnknownNote reason={facts.encryption.reason} /> : <Volumes volumes={facts.encryption.volumes} />}
      </Card>

      <Card title={t('device.software')} testid="device-software">
        {!facts ? <Empty>{t('device.noFacts')}</Empty> : isUnknown(facts.software) ? <UnknownNote reason={facts.software.reason} /> : <Software items={facts.software.items as SoftwareRow[]} />}
      </Card>

      <div className="grid-2">
        <Card title={t('device.usb')} testid="device-usb">
          <UsbHistory d={d} reload={reload} />
        </Card>
        <Card title={t('device.timeline')} testid="device-timeline">
          {d.timeline.length === 0 ? (
            <Empty>{t('device.timelineEmpty')}</Empty>
          ) : (
            <ol className="timeline">
              {d.timeline.map((e, i) => (
                <li key={`${e.at}-${i}`} data-testid="timeline-entry">
                  <span className="tl-dot" aria-hidden="true" />
                  <div>
                    <div className="tl-head">
                      <span className="tl-section">{e.section}</span>
                      <span className="muted small">{formatDateTime(e.at, lang)}</span>
                    </div>
                    <div>{e.summary}</div>
                  </div>
                </li>
              ))}
            </ol>
          )}
        </Card>
      </div>

      {exemption.dialog}
    </div>
  );
}

function UnknownNote({ reason }: { reason: string }) {
  const { t } = useApp();
  return <div className="notice notice-warn">{t('device.sectionUnknown', { reason })}</div>;
}

function Field({ label, children, testid }: { label: string; children: ReactNode; testid?: string }) {
  return (
    <>
      <dt>{label}</dt>
      <dd data-testid={testid}>{children}</dd>
    </>
  );
}

function IdentityCard({ d, onSaved }: { d: Detail; onSaved(): void }) {
  const { t, lang, api, user, notify } = useApp();
  const ref = useReference(api, user);
  const dev = d.device;
  const [editing, setEditing] = useState(false);
  const [owner, setOwner] = useState(dev.owner ?? '');
  const [org, setOrg] = useState(dev.org);
  const [ciat, setCiat] = useState(dev.ciatLevel);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const isAdmin = user.role === 'admin';
  const orgs = useMemo(() => [...new Set([dev.org, ...ref.orgs])], [dev.org, ref.orgs]);

  const start = () => {
    setOwner(dev.owner ?? '');
    setOrg(dev.org);
    setCiat(dev.ciatLevel);
    setError(null);
    setEditing(true);
  };
  const save = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    const patch: { owner?: string | null; org?: string; ciatLevel?: number } = {};
    if (owner.trim() !== (dev.owner ?? '')) patch.owner = owner.trim() || null;
    if (org !== dev.org) patch.org = org;
    if (ciat !== dev.ciatLevel) patch.ciatLevel = ciat;
    const r = Object.keys(patch).length ? await api.patchDevice(dev.id, patch) : ({ ok: true } as const);
    setBusy(false);
    if (!r.ok) return setError(r.error);
    setEditing(false);
    notify('success', t('device.saved'));
    onSaved();
  };

  return (
    <Card
      title={t('device.identity')}
      testid="device-identity"
      actions={
        isAdmin ? (
          !editing && (
            <button type="button" className="btn btn-small" onClick={start} data-testid="device-edit">
              {t('common.edit')}
            </button>
          )
        ) : (
          <span className="muted small">{t('common.readOnly')}</span>
        )
      }
    >
      {editing ? (
        <form className="form form-grid" onSubmit={save} data-testid="device-form">
          <label className="field">
            <span>{t('device.owner')}</span>
            <input value={owner} onChange={(e) => setOwner(e.target.value)} data-testid="device-owner-input" maxLength={256} />
          </label>
          <label className="field">
            <span>{t('device.org')}</span>
            <select value={org} onChange={(e) => setOrg(e.target.value)} data-testid="device-org-input">
              {orgs.map((o) => (
                <option key={o} value={o}>
                  {o}
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            <span>{t('device.ciat')}</span>
            <select value={ciat} onChange={(e) => setCiat(Number(e.target.value))} data-testid="device-ciat-input">
              {[0, 1, 2, 3, 4].map((l) => (
                <option key={l} value={l}>
                  {l}
                </option>
              ))}
            </select>
            <small className="muted">{t('device.ciatHint')}</small>
          </label>
          {error && <ErrorMessage error={error} />}
          <FormButtons placement="form" busy={busy} onCancel={() => setEditing(false)} submitTestid="device-save" cancelTestid="device-cancel" />
        </form>
      ) : (
        <dl className="kv">
          <Field label={t('device.owner')} testid="device-owner">
            {dev.owner ?? <span className="muted">{t('common.notSet')}</span>}
          </Field>
          <Field label={t('device.org')} testid="device-org">
            {dev.org}
          </Field>
          <Field label={t('device.ciat')} testid="device-ciat">
            <span className={`ciat ciat-${dev.ciatLevel}`}>{dev.ciatLevel}</span>
          </Field>
          <Field label={t('device.user')} testid="device-user">
            {dev.user ?? '—'}
          </Field>
          <Field label={t('device.os')}>
            {osLabel[dev.os] ?? dev.os} {dev.osVersion}
          </Field>
          <Field label={t('device.model')}>{dev.model || '—'}</Field>
          <Field label={t('device.serial')} testid="device-serial">
            <span className="mono">{dev.serial || '—'}</span>
          </Field>
          <Field label={t('device.enrolled')}>{formatDate(dev.enrolledAt, lang)}</Field>
          <Field label={t('device.lastSeen')}>{formatDateTime(dev.lastSeenAt, lang)}</Field>
        </dl>
      )}
    </Card>
  );
}

function yesNo(v: boolean | null | undefined, t: (k: MessageKey) => string): ReactNode {
  if (v === null || v === undefined) return <span className="muted">{t('common.unknown')}</span>;
  return <Pill tone={v ? 'good' : 'bad'}>{t(v ? 'common.yes' : 'common.no')}</Pill>;
}

function ScreenLock({ section }: { section: ScreenlockFacts | { unknown: true; reason: string } | undefined }) {
  const { t, lang } = useApp();
  if (!section) return <Empty>{t('device.noFacts')}</Empty>;
  if (isUnknown(section)) return <UnknownNote reason={section.reason} />;
  return (
    <dl className="kv">
      <Field label={t('device.sl.enabled')} testid="sl-enabled">
        {yesNo(section.enabled, t)}
      </Field>
      <Field label={t('device.sl.idle')} testid="sl-idle">
        {formatSeconds(section.idleSeconds, lang)}
      </Field>
      <Field label={t('device.sl.grace')} testid="sl-grace">
        {formatSeconds(section.graceSeconds, lang)}
      </Field>
      <Field label={t('device.sl.password')} testid="sl-password">
        {yesNo(section.requirePassword, t)}
      </Field>
      <Field label={t('device.sl.source')}>
        <span className="mono small">{section.source}</span>
      </Field>
      <Field label={t('device.sl.user')}>{section.user ?? '—'}</Field>
    </dl>
  );
}

function Volumes({ volumes }: { volumes: Volume[] }) {
  const { t } = useApp();
  if (volumes.length === 0) return <Empty>{t('device.volumesEmpty')}</Empty>;
  const stateTone = (v: Volume): Tone => (v.status === 'encrypted' && v.protection === 'on' ? 'good' : v.status === 'encrypted' || v.status === 'encrypting' ? 'warn' : v.status === 'unknown' ? 'neutral' : 'bad');
  return (
    <Table columns={['device.vol.id', 'device.vol.mount', 'device.vol.system', 'device.vol.technology', 'device.vol.status', 'device.vol.protection', 'device.vol.method']}>
      {volumes.map((v) => (
        <tr key={v.id} data-testid="device-volume" data-status={v.status}>
          <td className="mono">{v.id}</td>
          <td className="mono">{v.mountPoint ?? '—'}</td>
          <td>{v.system ? t('common.yes') : t('common.no')}</td>
          <td>{{ bitlocker: 'BitLocker', filevault: 'FileVault', luks: 'LUKS', none: '—', unknown: t('common.unknown') }[v.technology]}</td>
          <td>
            <Pill tone={stateTone(v)}>
              {v.status}
              {v.percent !== null && v.status !== 'encrypted' && v.status !== 'decrypted' ? ` ${v.percent}%` : ''}
            </Pill>
          </td>
          <td>{v.protection === 'unknown' ? <span className="muted">{t('common.unknown')}</span> : <Pill tone={v.protection === 'on' ? 'good' : 'bad'}>{v.protection}</Pill>}</td>
          <td>{v.method ?? '—'}</td>
        </tr>
      ))}
    </Table>
  );
}

function Software({ items }: { items: SoftwareRow[] }) {
  const { t } = useApp();
  const [filter, setFilter] = useState('');
  const rank = { denied: 0, unreviewed: 1, approved: 2 } as const;
  const sorted = useMemo(
    () =>
      [...items]
        .filter((i) => !filter || `${i.name} ${i.publisher ?? ''}`.toLowerCase().includes(filter.toLowerCase()))
        .sort((a, b) => (rank[a.approval ?? 'approved'] - rank[b.approval ?? 'approved']) || a.name.localeCompare(b.name)),
    [items, filter],
  );
  if (items.length === 0) return <Empty>{t('device.softwareEmpty')}</Empty>;
  const shown = sorted.slice(0, SOFTWARE_SHOWN);
  return (
    <>
      <div className="filters">
        <input type="search" className="search" placeholder={t('device.softwareFilter')} value={filter} onChange={(e) => setFilter(e.target.value)} data-testid="software-filter" />
        <span className="muted small">{t('device.sw.more', { shown: shown.length, total: sorted.length })}</span>
      </div>
      <Table size="short" columns={['device.sw.name', 'device.sw.version', 'device.sw.publisher', 'device.sw.source', 'device.sw.approval']}>
        {shown.map((s, i) => (
          <tr key={`${s.name}-${s.version}-${i}`} data-testid="device-software-row" data-approval={s.approval ?? ''}>
            <td>{s.name}</td>
            <td className="mono small">{s.version ?? '—'}</td>
            <td>{s.publisher ?? '—'}</td>
            <td className="muted">{s.source}</td>
            <td>{s.approval ? <Pill tone={approvalTone[s.approval] ?? 'neutral'}>{t(`approval.${s.approval}`)}</Pill> : <span className="muted">—</span>}</td>
          </tr>
        ))}
      </Table>
    </>
  );
}

function UsbHistory({ d, reload }: { d: Detail; reload(): void }) {
  const { t, lang, api, user, notify, errorText } = useApp();
  const [busy, setBusy] = useState(false);
  // Authorised for the device's org, for this unit (its serial) when it has one: the USB rule then
  // accepts it, and the collector re-evaluates the org's devices at once.
  const authorise = async (device: UsbDevice) => {
    setBusy(true);
    const r = await api.authoriseUsb({ org: d.device.org, vendorId: device.vendorId, productId: device.productId, serial: device.serial, note: `${d.device.hostname}: ${[device.vendor, device.product].filter(Boolean).join(' ')}`.slice(0, 2000) });
    setBusy(false);
    if (!r.ok) return notify('error', errorText(r.error));
    notify('success', t('device.usb.authorisedNow'));
    reload();
  };
  const authorisedList = useQuery(() => api.authorisedUsb(), [api, d]);
  const events = d.usbEvents.length ? d.usbEvents.map((r) => r.event) : d.facts && !isUnknown(d.facts.usb) ? d.facts.usb.events : [];
  // The collector's rule (shared isAuthorisedUsb): this org's entries and every org's; no serial means any unit.
  const isAuthorised = (device: UsbDevice): boolean | undefined =>
    authorisedList.data?.items.some((a) => (a.org === null || a.org === d.device.org) && a.vendorId === device.vendorId && a.productId === device.productId && (a.serial === null || a.serial === device.serial));
  if (events.length === 0) return <Empty>{t('device.usbEmpty')}</Empty>;
  const sorted = [...events].sort((a, b) => b.at.localeCompare(a.at));
  return (
    <Table size="short" columns={['device.usb.at', 'device.usb.action', 'device.usb.device', 'device.usb.user']}>
      {sorted.map((e, i) => {
        const authorised = e.device.storage ? isAuthorised(e.device) : undefined;
        return (
          <tr key={`${e.at}-${i}`} data-testid="device-usb-row">
            <td className="nowrap">{formatDateTime(e.at, lang)}</td>
            <td>{t(`usb.${e.action}`)}</td>
            <td>
              <div>{[e.device.vendor, e.device.product].filter(Boolean).join(' ') || `${e.device.vendorId}:${e.device.productId}`}</div>
              <div className="muted small mono">
                {e.device.vendorId}:{e.device.productId}
                {e.device.serial ? ` · ${e.device.serial}` : ''}
              </div>
              <div className="chips">
                {e.device.storage && <Pill tone="warn">{t('device.usb.storage')}</Pill>}
                {authorised !== undefined && <Pill tone={authorised ? 'good' : 'bad'}>{authorised ? t('device.usb.authorised') : `${t('common.no')} — ${t('device.usb.authorised').toLowerCase()}`}</Pill>}
              </div>
              {user.role === 'admin' && e.device.storage && authorised !== true && (
                <button type="button" className="btn btn-small" data-testid="device-usb-authorise" disabled={busy} onClick={() => void authorise(e.device)}>
                  {t('device.usb.authorise')}
                </button>
              )}
            </td>
            <td>{e.user ?? '—'}</td>
          </tr>
        );
      })}
    </Table>
  );
}
