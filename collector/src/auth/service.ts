import type { AuditEntry, Datastore, OrgScope, Role } from '../store/datastore';
import { dummyPasswordHash, randomToken, sha256Hex, verifyPassword } from '../util/crypto';

export interface AuthOptions {
  /** ISSP 9.11.7: a console session ends after this idle time. */
  sessionIdleSeconds: number;
  /** Per username: after `maxFailures` failed logins, the name is locked for `lockSeconds`. */
  lockout: { maxFailures: number; lockSeconds: number };
}

export const defaultAuthOptions: AuthOptions = { sessionIdleSeconds: 15 * 60, lockout: { maxFailures: 5, lockSeconds: 5 * 60 } };

export interface AuthUser {
  username: string;
  role: Role;
  orgs: string[];
  /** What the store filters on: null when the user is granted every org (`*`). */
  scope: OrgScope;
  tokenHash: string;
}

export type LoginResult =
  | { ok: true; token: string; user: AuthUser }
  | { ok: false; code: 'unauthenticated' | 'rate-limited'; message: string };

export function scopeOf(orgs: readonly string[]): OrgScope {
  return orgs.includes('*') ? null : orgs;
}

export function canSeeOrg(user: { scope: OrgScope }, org: string): boolean {
  return user.scope === null || user.scope.includes(org);
}

export class AuthService {
  constructor(
    private readonly store: Datastore,
    readonly options: AuthOptions,
    private readonly now: () => Date,
    private readonly audit: (entry: Omit<AuditEntry, 'at'>) => void,
  ) {}

  /**
   * Checks a username and password. Unknown names and wrong passwords take the same
   * time and give the same answer, so the login does not tell which names exist.
   */
  async login(username: string, password: string, ip: string | null): Promise<LoginResult> {
    const now = this.now();
    // Counted before the slow password check, not after: parallel attempts would all pass a read-then-write check.
    const attempt = await this.store.claimLoginAttempt(username, now, this.options.lockout);
    if (!attempt.allowed) {
      this.audit({ actor: 'anonymous', action: 'login', target: username, details: { reason: 'locked', lockedUntil: attempt.lockedUntil }, ip, outcome: 'denied' });
      return { ok: false, code: 'rate-limited', message: `too many failed attempts; try again after ${attempt.lockedUntil ?? 'a while'}` };
    }
    const user = await this.store.getUser(username);
    const valid = await verifyPassword(password, user?.passwordHash ?? (await dummyPasswordHash()));
    if (!user || !valid) {
      this.audit({ actor: 'anonymous', action: 'login', target: username, details: { reason: 'bad credentials', locked: attempt.lockedUntil !== null }, ip, outcome: 'failure' });
      return { ok: false, code: 'unauthenticated', message: 'wrong username or password' };
    }
    await this.store.clearLoginFailures(username);
    const token = randomToken();
    const tokenHash = sha256Hex(token);
    await this.store.createSession({ tokenHash, username, now, idleSeconds: this.options.sessionIdleSeconds, ip });
    this.audit({ actor: username, action: 'login', target: username, details: null, ip, outcome: 'success' });
    return { ok: true, token, user: { username, role: user.role, orgs: user.orgs, scope: scopeOf(user.orgs), tokenHash } };
  }

  /** The user behind a session token, extending the session's idle expiry; null when unknown or expired. */
  async authenticate(token: string, touch = true): Promise<AuthUser | null> {
    const tokenHash = sha256Hex(token);
    const now = this.now();
    const session = touch ? await this.store.touchSession(tokenHash, now, this.options.sessionIdleSeconds) : await this.store.getSession(tokenHash, now);
    if (!session) return null;
    const user = await this.store.getUser(session.username);
    if (!user) return null;
    return { username: user.username, role: user.role, orgs: user.orgs, scope: scopeOf(user.orgs), tokenHash };
  }

  async stillValid(tokenHash: string): Promise<boolean> {
    return (await this.store.getSession(tokenHash, this.now())) !== null;
  }

  async logout(user: AuthUser): Promise<void> {
    await this.store.deleteSession(user.tokenHash);
  }
}
