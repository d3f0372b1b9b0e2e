/**
 * Who may see and do what, as the collector checks it (docs/api.md,
 * docs/licenses-api.md): a role, and for some actions a grant of every org.
 * The views hide what the collector would refuse with 403. No React: unit-tested alone.
 */
import type { User } from './api';

/** The mark of "every org" in a user's `orgs` (and a license's org). */
export const allOrgsMark = '*';

/** Whether the user was granted every org ('*'), not only some. */
export function grantedEveryOrg(user: User): boolean {
  return user.orgs.includes(allOrgsMark);
}

/** The audit log covers every org (logins, other orgs' changes): admins and auditors granted every org. */
export function canReadAudit(user: User): boolean {
  return (user.role === 'admin' || user.role === 'auditor') && grantedEveryOrg(user);
}
