import type { AuthorisedUsb, User } from './api';
import { dictionaries } from './i18n';
import { canRemoveUsb, emptyUsbForm, everyOrgValue, parseUsbHexId, usbId, validateUsbForm, type UsbForm } from './usb';

const admin = (orgs: string[]): User => ({ username: 'a', role: 'admin', orgs });
const entry = (org: string | null): AuthorisedUsb => ({ id: 1, org, vendorId: '0781', productId: '5581', serial: null, note: null });
const form = (patch: Partial<UsbForm> = {}): UsbForm => ({ org: 'paris', vendorId: '0781', productId: '5581', serial: '', note: '', ...patch });

describe('authorised USB drives', () => {
  it('lets admins remove, an every-org entry only an admin of every org; others only read', () => {
    expect(canRemoveUsb(admin(['*']), entry(null))).toBe(true);
    expect(canRemoveUsb(admin(['paris']), entry('paris'))).toBe(true);
    expect(canRemoveUsb(admin(['paris']), entry(null))).toBe(false);
    expect(canRemoveUsb({ username: 'b', role: 'auditor', orgs: ['*'] }, entry('paris'))).toBe(false);
    expect(canRemoveUsb({ username: 'c', role: 'license-manager', orgs: ['*'] }, entry('paris'))).toBe(false);
  });

  it('starts an admin of some orgs on their first org, and one of every org on no choice', () => {
    expect(emptyUsbForm(admin(['lyon', 'paris'])).org).toBe('lyon');
    expect(emptyUsbForm(admin(['*'])).org).toBe('');
    expect(emptyUsbForm(admin(['*']), everyOrgValue).org).toBe(everyOrgValue);
  });

  it('reads USB ids as four hexadecimal digits, lower case, with or without 0x', () => {
    expect(parseUsbHexId('0781')).toBe('0781');
    expect(parseUsbHexId(' 0X0A5F ')).toBe('0a5f');
    expect(parseUsbHexId('781')).toBeNull();
    expect(parseUsbHexId('07811')).toBeNull();
    expect(parseUsbHexId('g781')).toBeNull();
    expect(parseUsbHexId('')).toBeNull();
    expect(usbId({ vendorId: '0781', productId: '5581' })).toBe('0781:5581');
  });

  it('sends null for every org, an empty serial and an empty note', () => {
    expect(validateUsbForm(form({ serial: '  ', note: '' }))).toEqual({ ok: true, value: { org: 'paris', vendorId: '0781', productId: '5581', serial: null, note: null } });
    expect(validateUsbForm(form({ org: everyOrgValue, vendorId: 'ABCD', serial: ' S1 ', note: ' finance ' }))).toEqual({
      ok: true,
      value: { org: null, vendorId: 'abcd', productId: '5581', serial: 'S1', note: 'finance' },
    });
  });

  it('names each wrong field with a message both languages have', () => {
    const r = validateUsbForm(form({ org: '', vendorId: 'sandisk', productId: '55', serial: 'x'.repeat(257), note: 'n'.repeat(2001) }));
    expect(r).toEqual({ ok: false, errors: { org: 'usb.form.orgRequired', vendorId: 'usb.form.hexInvalid', productId: 'usb.form.hexInvalid', serial: 'usb.form.serialTooLong', note: 'usb.form.noteTooLong' } });
    if (!r.ok) for (const key of Object.values(r.errors)) expect(dictionaries.fr[key]).toBeTruthy();
  });
});
