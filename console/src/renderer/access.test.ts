import type { Role, User } from './api';
import { canReadAudit, grantedEveryOrg } from './access';
import { dictionaries } from './i18n';

const user = (role: Role, orgs: string[]): User => ({ username: 'u', role, orgs });

describe('access', () => {
  it('tells a user granted every org from one granted some', () => {
    expect(grantedEveryOrg(user('admin', ['*']))).toBe(true);
    expect(grantedEveryOrg(user('admin', ['paris', 'lyon']))).toBe(false);
    expect(grantedEveryOrg(user('admin', []))).toBe(false);
  });

  it('opens the audit log to admins and auditors granted every org only, as the collector does', () => {
    expect(canReadAudit(user('admin', ['*']))).toBe(true);
    expect(canReadAudit(user('auditor', ['*']))).toBe(true);
    expect(canReadAudit(user('admin', ['paris']))).toBe(false);
    expect(canReadAudit(user('auditor', ['paris', 'lyon']))).toBe(false);
    expect(canReadAudit(user('license-manager', ['*']))).toBe(false);
    expect(dictionaries.en['audit.forbidden']).toMatch(/every organisation/);
  });
});
