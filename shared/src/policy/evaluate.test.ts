import { loadDefaultPolicy } from '../../../test/helpers/policy';
import { recordListChanges, sampleFacts, type Facts, type UsbDevice, type Volume } from '../facts';
import { catalogFromRules, evaluate, remediationFor, type EvaluationContext, type Finding } from './index';

const policy = loadDefaultPolicy();
const now = new Date('2026-11-29T10:00:00Z');
const catalog = catalogFromRules([
  { name: '^Microsoft 365 Apps', publisher: 'Microsoft', product: 'Microsoft 365 Apps', status: 'approved' },
  { name: '^Mozilla Firefox', product: 'Mozilla Firefox', status: 'approved' },
  { name: '^uTorrent', product: 'uTorrent', status: 'denied' },
]);
const context: EvaluationContext = { ciatLevel: 2, org: 'paris', authorisedUsb: [], softwareCatalog: catalog, lastSeenAt: new Date('2026-11-29T09:50:00Z') };

function finding(facts: Partial<Facts>, ruleId: string, ctx: Partial<EvaluationContext> = {}): Finding {
  const found = evaluate({ ...sampleFacts(), ...facts }, { ...context, ...ctx }, policy, now).find((f) => f.ruleId === ruleId);
  if (!found) throw new Error(`no finding for ${ruleId}`);
  return found;
}

const systemVolume = (change: Partial<Volume>): Facts['encryption'] => ({
  volumes: [{ id: 'C:', mountPoint: 'C:', system: true, technology: 'bitlocker', status: 'encrypted', percent: 100, protection: 'on', method: 'XTS-AES 128', ...change }],
});

describe('the default ISSP pack', () => {
  it('passes every rule on a compliant laptop', () => {
    const findings = evaluate(sampleFacts(), context, policy, now);
    expect(findings.map((f) => [f.ruleId, f.status])).toEqual([
      ['disk-encryption', 'pass'],
      ['screen-lock', 'pass'],
      ['approved-software', 'pass'],
      ['usb-storage', 'pass'],
      ['agent-reporting', 'pass'],
    ]);
  });

  describe('disk-encryption (9.10.6, 9.17.1)', () => {
    it('passes an encrypted system volume with protection on, naming it', () => {
      const f = finding({}, 'disk-encryption');
      expect(f).toMatchObject({ status: 'pass', severity: 'critical', issp: ['9.10.6', '9.17.1', '9.17.2'] });
      expect(f.evidence).toBe('C: is encrypted (XTS-AES 128) with BitLocker protection on');
    });
    it('fails BitLocker encrypted but suspended', () => {
      const f = finding({ encryption: systemVolume({ protection: 'off' }) }, 'disk-encryption');
      expect(f.status).toBe('fail');
      expect(f.evidence).toBe('C: is encrypted (XTS-AES 128) but BitLocker protection is off');
    });
    it('fails a decrypted system volume and one being encrypted', () => {
      expect(finding({ encryption: systemVolume({ status: 'decrypted', protection: 'off', method: null, percent: 0 }) }, 'disk-encryption')).toMatchObject({ status: 'fail', evidence: 'C: is not encrypted' });
      expect(finding({ encryption: systemVolume({ status: 'encrypting', percent: 42.5 }) }, 'disk-encryption')).toMatchObject({ status: 'fail', evidence: 'C: is being encrypted (42.5% done)' });
    });
    it('ignores a data volume when only the system volume is required', () => {
      const encryption = systemVolume({});
      if ('volumes' in encryption) encryption.volumes.push({ id: '/dev/sdb1', mountPoint: '/data', system: false, technology: 'none', status: 'decrypted', percent: null, protection: 'off', method: null });
      expect(finding({ encryption }, 'disk-encryption').status).toBe('pass');
    });
    it('is unknown, not pass, when the probe could not tell or the section is missing', () => {
      expect(finding({ encryption: { unknown: true, reason: 'manage-bde: access denied' } }, 'disk-encryption')).toMatchObject({ status: 'unknown', evidence: 'The disk encryption state could not be read: manage-bde: access denied' });
      const { encryption: _e, ...partial } = sampleFacts();
      expect(evaluate(partial, context, policy, now).find((f) => f.ruleId === 'disk-encryption')?.status).toBe('unknown');
      expect(finding({ encryption: systemVolume({ protection: 'unknown' }) }, 'disk-encryption').status).toBe('unknown');
      expect(finding({ encryption: { volumes: [] } }, 'disk-encryption').status).toBe('unknown');
    });
  });

  describe('screen-lock (9.11.7)', () => {
    const lock = (change: Partial<Extract<Facts['screenlock'], { source: string }>>): Facts['screenlock'] => ({ enabled: true, idleSeconds: 300, graceSeconds: 0, requirePassword: true, source: 'gsettings', user: 'jd', ...change });
    it('passes at exactly 900 s idle plus grace', () => {
      expect(finding({ screenlock: lock({ idleSeconds: 840, graceSeconds: 60 }) }, 'screen-lock')).toMatchObject({ status: 'pass', evidence: 'The screen locks with a password after 15 min (14 min idle + 1 min grace) for jd' });
    });
    it('fails beyond 900 s once grace is added', () => {
      expect(finding({ screenlock: lock({ idleSeconds: 900, graceSeconds: 30 }) }, 'screen-lock')).toMatchObject({ status: 'fail', evidence: 'The screen locks after 930 s (15 min idle + 30 s grace) for jd, more than the 15 min allowed' });
    });
    it('fails an idle time of 0, which means never', () => {
      expect(finding({ screenlock: lock({ idleSeconds: 0 }) }, 'screen-lock')).toMatchObject({ status: 'fail', evidence: 'The screen never locks when idle for jd: idle time is set to never (gsettings)' });
    });
    it('fails a lock that is off or needs no password', () => {
      expect(finding({ screenlock: lock({ enabled: false }) }, 'screen-lock').status).toBe('fail');
      expect(finding({ screenlock: lock({ requirePassword: false }) }, 'screen-lock').status).toBe('fail');
    });
    it('is unknown when the section is missing, unknown, or the idle time unread', () => {
      const { screenlock: _s, ...partial } = sampleFacts();
      expect(evaluate(partial, context, policy, now).find((f) => f.ruleId === 'screen-lock')).toMatchObject({ status: 'unknown', evidence: 'No screen lock facts have been reported' });
      expect(finding({ screenlock: { unknown: true, reason: 'no graphical session' } }, 'screen-lock').status).toBe('unknown');
      expect(finding({ screenlock: lock({ idleSeconds: null }) }, 'screen-lock').status).toBe('unknown');
      expect(finding({ screenlock: lock({ requirePassword: null }) }, 'screen-lock').status).toBe('unknown');
    });
    it('honours a stricter maximum set in the policy', () => {
      const strict = { ...policy, rules: policy.rules.map((r) => (r.check.kind === 'screenlock' ? { ...r, check: { ...r.check, maxSeconds: 300 } } : r)) };
      const f = evaluate({ ...sampleFacts(), screenlock: lock({ idleSeconds: 600 }) }, context, strict, now).find((x) => x.ruleId === 'screen-lock');
      expect(f?.status).toBe('fail');
    });
  });

  describe('approved-software (9.2.2)', () => {
    const item = (name: string, source: 'registry' | 'dpkg' = 'registry') => ({ name, version: '1.0', publisher: null, source, scope: 'machine' as const, installedAt: null });
    it('fails denied and unreviewed software, naming them', () => {
      const f = finding({ software: { items: [item('Mozilla Firefox'), item('uTorrent 3.6'), item('Zoom Workplace')] } }, 'approved-software');
      expect(f).toMatchObject({ status: 'fail', evidence: 'Software not approved: 1 denied (uTorrent); 1 unreviewed (Zoom Workplace)' });
    });
    it('leaves distribution packages out by default', () => {
      expect(finding({ software: { items: [item('libc6', 'dpkg'), item('Mozilla Firefox')] } }, 'approved-software').status).toBe('pass');
    });
    it('raises severity for CIAT 3 devices and is unknown without an inventory', () => {
      expect(finding({ software: { items: [item('Zoom Workplace')] } }, 'approved-software', { ciatLevel: 3 }).severity).toBe('high');
      expect(finding({ software: { items: [item('Zoom Workplace')] } }, 'approved-software', { ciatLevel: 1 }).severity).toBe('medium');
      expect(finding({ software: { unknown: true, reason: 'dpkg-query not found' } }, 'approved-software').status).toBe('unknown');
    });
    it('classifies the same software section again only under another catalog or check', () => {
      const software = { items: [item('Mozilla Firefox'), item('Zoom Workplace')] };
      let calls = 0;
      const counting = (approve: boolean): EvaluationContext['softwareCatalog'] => ({
        classify: (i) => {
          calls++;
          return { product: i.name, status: approve ? 'approved' : 'unreviewed' };
        },
      });
      const strict = counting(false);
      expect(finding({ software }, 'approved-software', { softwareCatalog: strict }).status).toBe('fail');
      expect(finding({ software }, 'approved-software', { softwareCatalog: strict }).status).toBe('fail');
      expect(calls).toBe(2);
      expect(finding({ software }, 'approved-software', { softwareCatalog: counting(true) }).status).toBe('pass');
      expect(calls).toBe(4);
      const lenient = { ...policy, rules: policy.rules.map((r) => (r.check.kind === 'software' ? { ...r, check: { ...r.check, failOn: ['denied' as const] } } : r)) };
      const found = evaluate({ ...sampleFacts(), software }, { ...context, softwareCatalog: strict }, lenient, now).find((f) => f.ruleId === 'approved-software');
      expect(found?.status).toBe('pass');
      expect(calls).toBe(6);
    });
    it("works a list built from the previous one from its changes, with the whole list's outcome", () => {
      let seed = 3;
      const random = (n: number) => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed % n;
      };
      const names = ['Mozilla Firefox', 'uTorrent 3.6', 'Zoom Workplace', 'Slack', 'libc6', 'Microsoft 365 Apps'];
      const make = (n: number) => ({ ...item(names[n % names.length]!, n % 5 === 4 ? 'dpkg' : 'registry'), version: `${n % 3}.${random(4)}` });
      let list = Array.from({ length: 12 }, (_, n) => make(n));
      let classified = 0;
      const softwareCatalog: EvaluationContext['softwareCatalog'] = {
        classify: (i) => {
          classified++;
          return catalog.classify(i);
        },
      };
      finding({ software: { items: list } }, 'approved-software', { softwareCatalog });
      let fromChanges = 0;
      for (let round = 0; round < 200; round++) {
        // Updates in place (same product, same verdict), installs and removals.
        const removed = list.filter(() => random(8) === 0);
        const added = Array.from({ length: random(3) }, () => make(random(40)));
        const next = [...list.filter((x) => !removed.includes(x)), ...added];
        recordListChanges(next, list, added, removed);
        const before = classified;
        const outcome = finding({ software: { items: next } }, 'approved-software', { softwareCatalog });
        if (classified - before === added.length + removed.length) fromChanges++;
        const whole = finding({ software: { items: next.map((x) => ({ ...x })) } }, 'approved-software');
        expect(outcome).toEqual(whole);
        list = next;
      }
      // Most rounds changed the outcome's inputs only in ways that cancel out.
      expect(fromChanges).toBeGreaterThan(50);
    });
  });

  describe('usb-storage (9.10.3)', () => {
    const stick: UsbDevice = { vendorId: '0781', productId: '5581', vendor: 'SanDisk', product: 'Ultra', serial: '4C530001', storage: true, mountPoints: ['E:\\'] };
    const mouse: UsbDevice = { vendorId: '046d', productId: 'c077', vendor: 'Logitech', product: 'M105', serial: null, storage: false, mountPoints: [] };
    it('fails an unauthorised flash drive seen in events, naming it', () => {
      const usb = { devices: [mouse], events: [{ at: '2026-11-29T08:00:00Z', action: 'mounted' as const, device: stick, user: 'jd' }] };
      expect(finding({ usb }, 'usb-storage')).toMatchObject({ status: 'fail', severity: 'high', evidence: 'Unauthorised USB storage used: SanDisk Ultra [0781:5581 s/n 4C530001] at 2026-11-29T08:00:00Z by jd' });
      expect(finding({ usb }, 'usb-storage', { ciatLevel: 4 }).severity).toBe('critical');
    });
    it('passes an authorised drive and a mouse', () => {
      const usb = { devices: [stick, mouse], events: [] };
      expect(finding({ usb }, 'usb-storage', { authorisedUsb: [{ vendorId: '0781', productId: '5581', serial: '4C530001' }] })).toMatchObject({ status: 'pass', evidence: 'Only authorised USB mass storage was used' });
      expect(finding({ usb: { devices: [mouse], events: [] } }, 'usb-storage').status).toBe('pass');
    });
    it('does not let an authorisation for one serial cover another unit', () => {
      expect(finding({ usb: { devices: [stick], events: [] } }, 'usb-storage', { authorisedUsb: [{ vendorId: '0781', productId: '5581', serial: 'OTHER' }] }).status).toBe('fail');
    });
    it('is unknown when the USB probe could not tell', () => {
      expect(finding({ usb: { unknown: true, reason: 'sysfs not readable' } }, 'usb-storage').status).toBe('unknown');
    });

    describe('USB events sent as they happened, between two scans', () => {
      const plugged = (hoursAgo: number, action: 'connected' | 'mounted' | 'disconnected' = 'mounted') => ({
        event: { at: '2026-11-29T07:12:00Z', action, device: stick, user: 'jd' },
        receivedAt: new Date(now.getTime() - hoursAgo * 3_600_000),
      });
      const nothingNow = { usb: { devices: [mouse], events: [] } };
      it('fails for 24 hours after the collector received a connection of an unauthorised drive, though the scan saw none', () => {
        expect(finding(nothingNow, 'usb-storage', { usbEvents: [plugged(2)] })).toMatchObject({
          status: 'fail',
          evidence: 'Unauthorised USB storage used: SanDisk Ultra [0781:5581 s/n 4C530001] at 2026-11-29T07:12:00Z by jd',
        });
        expect(finding(nothingNow, 'usb-storage', { usbEvents: [plugged(23.9)] }).status).toBe('fail');
        expect(finding(nothingNow, 'usb-storage', { usbEvents: [plugged(24.1)] }).status).toBe('pass');
      });
      it('ignores removals, authorised drives, and other devices than storage', () => {
        expect(finding(nothingNow, 'usb-storage', { usbEvents: [plugged(1, 'disconnected')] }).status).toBe('pass');
        expect(finding(nothingNow, 'usb-storage', { usbEvents: [plugged(1)], authorisedUsb: [{ vendorId: '0781', productId: '5581' }] })).toMatchObject({
          status: 'pass',
          evidence: 'Only authorised USB mass storage was used',
        });
        const keyboard = { ...plugged(1), event: { ...plugged(1).event, device: mouse } };
        expect(finding(nothingNow, 'usb-storage', { usbEvents: [keyboard] })).toMatchObject({ status: 'pass', evidence: 'No USB mass storage was used' });
      });
      it('fails on an event even when the scan could not read the USB devices', () => {
        expect(finding({ usb: { unknown: true, reason: 'sysfs not readable' } }, 'usb-storage', { usbEvents: [plugged(1)] }).status).toBe('fail');
      });
      it('counts only the scans with a look-back of 0 hours', () => {
        const noLookback = {
          ...policy,
          rules: policy.rules.map((r) => (r.check.kind === 'usb' ? { ...r, check: { ...r.check, lookbackHours: 0 } } : r)),
        };
        const f = evaluate({ ...sampleFacts(), ...nothingNow }, { ...context, usbEvents: [plugged(1)] }, noLookback, now).find((x) => x.ruleId === 'usb-storage');
        expect(f?.status).toBe('pass');
      });
    });
  });

  describe('agent-reporting (9.7.1)', () => {
    it('fails a device silent for more than 24 h, and passes within it', () => {
      expect(finding({}, 'agent-reporting', { lastSeenAt: new Date('2026-11-28T09:00:00Z') })).toMatchObject({ status: 'fail', evidence: 'The device has not reported for 25 h (last seen 2026-11-28T09:00:00.000Z), more than the 24 h allowed' });
      expect(finding({}, 'agent-reporting', { lastSeenAt: new Date('2026-11-28T11:00:00Z') }).status).toBe('pass');
    });
    it('is unknown for a device that never reported', () => {
      expect(finding({}, 'agent-reporting', { lastSeenAt: null }).status).toBe('unknown');
    });
  });

  it('skips rules whose platforms or CIAT levels do not include the device', () => {
    const linuxOnly = { ...policy, rules: policy.rules.map((r) => ({ ...r, platforms: ['linux' as const] })) };
    expect(evaluate(sampleFacts(), context, linuxOnly, now)).toEqual([]);
    const highOnly = { ...policy, rules: policy.rules.map((r) => ({ ...r, ciatLevels: [3, 4] })) };
    expect(evaluate(sampleFacts(), context, highOnly, now)).toEqual([]);
  });

  it('picks remediation for the language and OS', () => {
    const rule = policy.rules[0]!;
    expect(remediationFor(rule, 'fr', 'windows')).toMatch(/^Ouvrez Paramètres/);
    expect(remediationFor(rule, 'en', 'macos')).toMatch(/FileVault/);
    expect(remediationFor(policy.rules[2]!, 'en', 'linux')).toMatch(/^Uninstall/);
  });
});
