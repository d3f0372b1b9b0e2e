import { facts, sampleFacts, sectionSchemas, usbDevice, usbEvent, volume } from './index';
import stringify from 'safe-stable-stringify';

describe('facts schemas', () => {
  it('accepts a complete sample', () => {
    expect(facts.safeParse(sampleFacts()).success).toBe(true);
  });

  it('accepts every section as unknown with a reason', () => {
    for (const [name, schema] of Object.entries(sectionSchemas)) {
      expect([name, schema.safeParse({ unknown: true, reason: 'no desktop session' }).success]).toEqual([name, true]);
    }
  });

  it('refuses unknown without a reason, and unknown: false', () => {
    expect(sectionSchemas.screenlock.safeParse({ unknown: true }).success).toBe(false);
    expect(sectionSchemas.screenlock.safeParse({ unknown: false, reason: 'x' }).success).toBe(false);
  });

  it('refuses a missing section', () => {
    const { usb: _usb, ...rest } = sampleFacts();
    const result = facts.safeParse(rest);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['usb']);
  });

  describe('encryption', () => {
    const good = sampleFacts().encryption;
    it('accepts a BitLocker volume', () => expect(sectionSchemas.encryption.safeParse(good).success).toBe(true));
    it.each([
      ['an unknown technology', { technology: 'veracrypt' }],
      ['a percent above 100', { percent: 101 }],
      ['a missing protection', { protection: undefined }],
      ['a numeric status', { status: 1 }],
      ['an extra field', { cached: true }],
    ])('refuses %s', (_label, change) => {
      const v = { ...(good as { volumes: object[] }).volumes[0], ...change };
      expect(volume.safeParse(v).success).toBe(false);
    });
  });

  describe('screenlock', () => {
    it('accepts nulls where the probe could not read a value', () => {
      expect(sectionSchemas.screenlock.safeParse({ enabled: null, idleSeconds: null, graceSeconds: null, requirePassword: null, source: 'gsettings', user: null }).success).toBe(true);
    });
    it.each([
      ['negative idle seconds', { idleSeconds: -1 }],
      ['fractional idle seconds', { idleSeconds: 1.5 }],
      ['a string enabled', { enabled: 'yes' }],
      ['an empty source', { source: '' }],
    ])('refuses %s', (_label, change) => {
      expect(sectionSchemas.screenlock.safeParse({ ...sampleFacts().screenlock, ...change }).success).toBe(false);
    });
  });

  describe('software', () => {
    it('refuses an unknown source and an empty name', () => {
      const item = { name: 'x', version: null, publisher: null, source: 'registry', scope: 'machine', installedAt: null };
      expect(sectionSchemas.software.safeParse({ items: [item] }).success).toBe(true);
      expect(sectionSchemas.software.safeParse({ items: [{ ...item, source: 'brew' }] }).success).toBe(false);
      expect(sectionSchemas.software.safeParse({ items: [{ ...item, name: '' }] }).success).toBe(false);
      expect(sectionSchemas.software.safeParse({ items: [{ ...item, scope: 'global' }] }).success).toBe(false);
    });
  });

  describe('usb', () => {
    const stick = { vendorId: '0781', productId: '5581', vendor: 'SanDisk', product: 'Ultra', serial: '4C530001', storage: true, mountPoints: ['/media/jd/STICK'] };
    it('accepts a device and an event', () => {
      expect(usbDevice.safeParse(stick).success).toBe(true);
      expect(usbEvent.safeParse({ at: '2026-11-29T08:15:00Z', action: 'mounted', device: stick, user: 'jd' }).success).toBe(true);
      expect(usbEvent.safeParse({ at: '2026-11-29T09:15:00+01:00', action: 'connected', device: stick, user: null }).success).toBe(true);
    });
    it.each([
      ['upper-case hex', { vendorId: '0A5C' }],
      ['a 0x prefix', { vendorId: '0x0781' }],
      ['three digits', { productId: '581' }],
    ])('refuses ids written with %s', (_label, change) => {
      expect(usbDevice.safeParse({ ...stick, ...change }).success).toBe(false);
    });
    it('refuses an event that is not ISO 8601 or has an unknown action', () => {
      expect(usbEvent.safeParse({ at: '29/11/2026 08:15', action: 'mounted', device: stick, user: null }).success).toBe(false);
      expect(usbEvent.safeParse({ at: '2026-11-29T08:15:00Z', action: 'ejected', device: stick, user: null }).success).toBe(false);
    });
  });

  describe('device', () => {
    it('refuses an unknown OS and an empty machine id', () => {
      const d = sampleFacts().device;
      expect(sectionSchemas.device.safeParse({ ...d, os: 'freebsd' }).success).toBe(false);
      expect(sectionSchemas.device.safeParse({ ...d, machineId: '' }).success).toBe(false);
    });
  });
});

describe('facts schemas: canonical key order', () => {
  it("gives parsed facts their keys in the facts hash's sorted order at every depth", () => {
    // Keys deliberately out of order, as any agent may send them.
    const reversed = (value: unknown): unknown =>
      Array.isArray(value) ? value.map(reversed) : value !== null && typeof value === 'object' ? Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reversed(v)])) : value;
    const parsed = facts.parse(reversed(sampleFacts()));
    // The collector relies on this to take the plain JSON as the canonical text (collector/src/util/canonical-json.ts).
    expect(JSON.stringify(parsed)).toBe(stringify(parsed));
    expect(JSON.stringify(reversed(sampleFacts()))).not.toBe(stringify(sampleFacts()));
  });
});
