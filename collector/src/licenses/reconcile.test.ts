import { overDeployments, reconcile, type Install, type License } from './reconcile';

const now = new Date('2026-03-02T09:00:00Z');
let nextId = 1;
const license = (over: Partial<License>): License => ({ id: nextId++, product: 'P', type: 'per-device', seats: 2, purchasedAt: '2025-01-01', expiresAt: null, cost: null, currency: 'EUR', org: '*', reference: '', ...over });
const install = (deviceId: string, over: Partial<Install> = {}): Install => ({ deviceId, hostname: `${deviceId}-host`, org: 'acme', user: null, firstSeenAt: '2026-01-01T00:00:00.000Z', lastSeenAt: '2026-03-01T00:00:00.000Z', ...over });

describe('reconcile', () => {
  it('per device: counts devices and names the most recently first-seen installs beyond the count', () => {
    const usage = new Map([['P', [install('d3', { firstSeenAt: '2026-02-10T00:00:00.000Z' }), install('d1', { firstSeenAt: '2025-06-01T00:00:00.000Z' }), install('d2', { firstSeenAt: '2026-01-05T00:00:00.000Z' }), install('d4', { firstSeenAt: '2026-02-20T00:00:00.000Z' })]]]);
    const [row] = reconcile([license({ seats: 1 }), license({ seats: 1 })], usage, now, 60);
    expect(row).toMatchObject({ product: 'P', type: 'per-device', purchased: 2, used: 4, available: 0, status: 'over-deployed', overBy: 2 });
    expect(row!.beyondDevices.map((d) => d.deviceId)).toEqual(['d3', 'd4']);
    expect(overDeployments([row!])).toEqual([{ product: 'P', org: '*', overBy: 2, beyondDevices: [{ deviceId: 'd3', hostname: 'd3-host' }, { deviceId: 'd4', hostname: 'd4-host' }] }]);
  });

  it('per device: among installs first seen at the same moment (a rule renamed the product), the last by hostname are beyond; an unknown date is last', () => {
    const renamed = '2026-02-01T00:00:00.000Z';
    const usage = new Map([
      [
        'P',
        [
          install('d5', { firstSeenAt: '' }),
          install('d1', { hostname: 'zulu', firstSeenAt: renamed }),
          install('d2', { hostname: 'alpha', firstSeenAt: renamed }),
          install('d3', { hostname: 'Mike', firstSeenAt: renamed }),
          install('d4', { hostname: 'echo', firstSeenAt: '2025-12-01T00:00:00.000Z' }),
        ],
      ],
    ]);
    const [row] = reconcile([license({ seats: 2 })], usage, now, 60);
    expect(row!.beyondDevices.map((d) => d.hostname)).toEqual(['Mike', 'zulu', 'd5-host']);
    // Handed over oldest first, as the store does: only the tied run is ordered by name.
    const [d5, d1, d2, d3, d4] = usage.get('P')!;
    const oldestFirst = new Map([['P', [d4!, d1!, d2!, d3!, d5!]]]);
    expect(reconcile([license({ seats: 2 })], oldestFirst, now, 60)[0]!.beyondDevices.map((d) => d.hostname)).toEqual(['Mike', 'zulu', 'd5-host']);
  });

  it('per user: counts distinct people, falling back to the reported user, and the device itself without either', () => {
    const usage = new Map([
      [
        'P',
        [
          install('d1', { user: 'alice', firstSeenAt: '2025-01-01T00:00:00.000Z' }),
          install('d2', { user: 'Alice', firstSeenAt: '2025-02-01T00:00:00.000Z' }), // her second laptop: one seat
          install('d3', { user: 'bob', firstSeenAt: '2025-03-01T00:00:00.000Z' }),
          install('d4', { user: null, firstSeenAt: '2025-04-01T00:00:00.000Z' }),
        ],
      ],
    ]);
    const [row] = reconcile([license({ type: 'per-user', seats: 2 })], usage, now, 60);
    expect(row).toMatchObject({ used: 3, purchased: 2, overBy: 1, status: 'over-deployed' });
    expect(row!.beyondDevices.map((d) => d.deviceId)).toEqual(['d4']);
    const [fits] = reconcile([license({ type: 'per-user', seats: 3 })], usage, now, 60);
    expect(fits).toMatchObject({ used: 3, available: 0, status: 'ok', beyondDevices: [] });
  });

  it('site: never over-deployed, used and available not counted', () => {
    const usage = new Map([['P', Array.from({ length: 50 }, (_, i) => install(`d${i}`))]]);
    const [row] = reconcile([license({ type: 'site', seats: null })], usage, now, 60);
    expect(row).toMatchObject({ type: 'site', purchased: null, used: 0, available: null, status: 'ok', overBy: 0, unusedSeats90d: 0 });
  });

  it('counts only the licenses valid today, and reports those expiring within N days', () => {
    const expired = license({ seats: 5, expiresAt: '2026-01-31' });
    const expiring = license({ seats: 1, expiresAt: '2026-04-15' });
    const usage = new Map([['P', [install('d1')]]]);
    const [row] = reconcile([expired, expiring], usage, now, 60);
    expect(row).toMatchObject({ purchased: 1, used: 1, status: 'expiring' });
    expect(row!.expiringLicenses.map((l) => l.id)).toEqual([expiring.id]);
    expect(reconcile([expiring], usage, now, 30)[0]!.status).toBe('ok');
    // Every license expired: installs left are unlicensed; nothing installed is just expired.
    expect(reconcile([expired], usage, now, 60)[0]).toMatchObject({ status: 'unlicensed', purchased: 0, used: 1 });
    expect(reconcile([expired], new Map(), now, 60)[0]).toMatchObject({ status: 'expired', used: 0 });
  });

  it('scopes usage to the license org, and reports seats unused for 90 days', () => {
    const usage = new Map([
      ['P', [install('d1', { org: 'acme' }), install('d2', { org: 'beta' }), install('d3', { org: 'acme', lastSeenAt: '2025-10-01T00:00:00.000Z' })]],
    ]);
    const rows = reconcile([license({ org: 'acme', seats: 10, purchasedAt: '2025-06-01' }), license({ org: 'beta', seats: 1, purchasedAt: '2026-02-01' })], usage, now, 60);
    const acme = rows.find((r) => r.org === 'acme')!;
    const beta = rows.find((r) => r.org === 'beta')!;
    // 10 seats bought in June, 2 taken: 8 idle; plus d3, silent since October, holds one.
    expect(acme).toMatchObject({ used: 2, available: 8, unusedSeats90d: 9 });
    // Bought a month ago: too recent to call idle.
    expect(beta).toMatchObject({ used: 1, available: 0, unusedSeats90d: 0 });
  });
});
