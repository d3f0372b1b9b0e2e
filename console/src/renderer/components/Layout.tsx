/** The frame around every view: left navigation, header with orgs, user, live state and language. */
import type { ReactNode } from 'react';
import type { LiveStatus } from '../live';
import { canReadAudit, grantedEveryOrg } from '../access';
import { useApp } from '../context';
import { href, type RouteName } from '../route';
import { languages, type Lang, type MessageKey } from '../i18n';

const icons: Record<string, string> = {
  overview: 'M3 13h8V3H3v10Zm0 8h8v-6H3v6Zm10 0h8V11h-8v10Zm0-18v6h8V3h-8Z',
  nonconformities: 'M12 2 1 21h22L12 2Zm1 16h-2v-2h2v2Zm0-4h-2v-4h2v4Z',
  devices: 'M4 6h16v10H4V6Zm16 12a2 2 0 0 0 2-2V6a2 2 0 0 0-2-2H4a2 2 0 0 0-2 2v10a2 2 0 0 0 2 2H0v2h24v-2h-4Z',
  licenses: 'M21 10h-8.35A5.99 5.99 0 0 0 1 12a6 6 0 0 0 11.65 2H13l2 2 2-2 2 2 4-4.04L21 10ZM7 15a3 3 0 1 1 0-6 3 3 0 0 1 0 6Z',
  software: 'M4 8h4V4H4v4Zm6 12h4v-4h-4v4Zm-6 0h4v-4H4v4Zm0-6h4v-4H4v4Zm6 0h4v-4h-4v4Zm6-10v4h4V4h-4Zm-6 4h4V4h-4v4Zm6 6h4v-4h-4v4Zm0 6h4v-4h-4v4Z',
  usb: 'M15 7v4h1v2h-3V5h2l-3-4-3 4h2v8H8v-2.07c.7-.37 1.2-1.08 1.2-1.93 0-1.21-.99-2.2-2.2-2.2-1.21 0-2.2.99-2.2 2.2 0 .85.5 1.56 1.2 1.93V13c0 1.11.89 2 2 2h3v3.05c-.71.37-1.2 1.1-1.2 1.95 0 1.22.99 2.2 2.2 2.2 1.21 0 2.2-.98 2.2-2.2 0-.85-.49-1.58-1.2-1.95V15h3c1.11 0 2-.89 2-2v-2h1V7h-4Z',
  audit: 'M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8l-6-6Zm2 16H8v-2h8v2Zm0-4H8v-2h8v2Zm-3-5V3.5L18.5 9H13Z',
};

interface NavItem {
  route: RouteName;
  label: MessageKey;
}

export function Layout({
  current,
  live,
  onLogout,
  onLock,
  onChangeCollector,
  children,
}: {
  current: RouteName;
  live: LiveStatus;
  onLogout(): void;
  onLock(): void;
  onChangeCollector?: () => void;
  children: ReactNode;
}) {
  const { t, lang, setLang, user, collectorUrl } = useApp();
  const canAudit = canReadAudit(user);
  const sections: { title: MessageKey; items: NavItem[] }[] = [
    {
      title: 'nav.section.monitor',
      items: [
        { route: 'overview', label: 'nav.overview' },
        { route: 'nonconformities', label: 'nav.nonconformities' },
        { route: 'devices', label: 'nav.devices' },
      ],
    },
    // Every role sees the software assets; auditors read them (the views say so and hide the editing).
    {
      title: 'nav.section.assets',
      items: [
        { route: 'licenses', label: 'nav.licenses' },
        { route: 'software', label: 'nav.software' },
      ],
    },
    // Every role sees the authorised USB drives (admins change them); the audit log, which covers every org,
    // is for admins and auditors granted every org (the collector refuses it to the others).
    {
      title: 'nav.section.govern',
      items: [{ route: 'usb', label: 'nav.usb' }, ...(canAudit ? [{ route: 'audit' as RouteName, label: 'nav.audit' as MessageKey }] : [])],
    },
  ];
  const active = current === 'device' ? 'devices' : current;
  const orgs = grantedEveryOrg(user) ? t('header.allOrgs') : user.orgs.join(', ');
  const initials = user.username.slice(0, 2).toUpperCase();

  return (
    <div className="shell">
      <nav className="sidebar" aria-label="Vigie">
        <div className="brand">
          <BrandMark size={28} shield="#5b8def" />
          <div>
            <div className="brand-name">{t('app.name')}</div>
            <div className="brand-tag">{t('app.tagline')}</div>
          </div>
        </div>
        {sections.map((s) => (
          <div key={s.title} className="nav-section">
            <div className="nav-title">{t(s.title)}</div>
            {s.items.map((item) => (
              <a key={item.route} href={href(item.route)} className={`nav-item ${active === item.route ? 'active' : ''}`} data-testid={`nav-${item.route}`} aria-current={active === item.route ? 'page' : undefined}>
                <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true">
                  <path fill="currentColor" d={icons[item.route]} />
                </svg>
                {t(item.label)}
              </a>
            ))}
          </div>
        ))}
        <div className="sidebar-foot">
          {collectorUrl && (
            <div className="collector" title={collectorUrl}>
              <span className="muted">{t('header.collector')}</span>
              <span className="collector-url">{new URL(collectorUrl).host}</span>
              {onChangeCollector && (
                <button type="button" className="link" onClick={onChangeCollector}>
                  {t('setup.change')}
                </button>
              )}
            </div>
          )}
        </div>
      </nav>
      <div className="main">
        <header className="topbar">
          <div className="org" data-testid="header-orgs">
            <span className="muted">{t('header.orgs')}</span>
            <strong>{orgs}</strong>
          </div>
          <div className="topbar-right">
            <span className={`live live-${live}`} data-testid="live-status" data-status={live}>
              <span className="live-dot" aria-hidden="true" />
              {t(live === 'connected' ? 'live.connected' : live === 'connecting' ? 'live.connecting' : 'live.offline')}
            </span>
            <LanguageSwitch lang={lang} setLang={setLang} label={t('header.language')} />
            <div className="user" data-testid="header-user">
              <span className="avatar" aria-hidden="true">
                {initials}
              </span>
              <div className="user-text">
                <strong data-testid="header-username">{user.username}</strong>
                <span className="muted">{t(`role.${user.role}`)}</span>
              </div>
            </div>
            <button type="button" className="btn btn-ghost btn-small" onClick={onLock} data-testid="lock-button">
              {t('header.lock')}
            </button>
            <button type="button" className="btn btn-ghost btn-small" onClick={onLogout} data-testid="logout">
              {t('header.logout')}
            </button>
          </div>
        </header>
        <main className="content">{children}</main>
      </div>
    </div>
  );
}

/** Vigie's shield: lighter in the dark sidebar than on the sign-in card. */
export function BrandMark({ size, shield }: { size: number; shield: string }) {
  return (
    <svg viewBox="0 0 32 32" width={size} height={size} aria-hidden="true">
      <path fill={shield} d="M16 2 4 7v8c0 7.4 5.1 14.3 12 16 6.9-1.7 12-8.6 12-16V7L16 2Z" />
      <path fill="#fff" d="m13.6 21.2-5-5 2.1-2.1 2.9 2.9 7.7-7.7 2.1 2.1-9.8 9.8Z" />
    </svg>
  );
}

export function LanguageSwitch({ lang, setLang, label }: { lang: Lang; setLang(l: Lang): void; label: string }) {
  return (
    <div className="lang-switch" role="group" aria-label={label} data-testid="lang-switch" data-lang={lang}>
      {languages.map((l) => (
        <button key={l} type="button" className={l === lang ? 'active' : ''} aria-pressed={l === lang} onClick={() => setLang(l)} data-testid={`lang-${l}`}>
          {l.toUpperCase()}
        </button>
      ))}
    </div>
  );
}
