/**
 * The pure side of the authorised USB drives view (docs/api.md, /usb/authorised):
 * who may change what, and the add form. No React, no fetch: unit-tested alone.
 */
import { allOrgsMark, grantedEveryOrg } from './access';
import type { AuthorisedUsb, AuthorisedUsbInput, User } from './api';
import type { MessageKey } from './i18n';
import type { FormResult } from './licenses';

/** The org select's value for "every org" (the API's org null): the same mark as a user's `orgs`. */
export const everyOrgValue = allOrgsMark;

/** Admins add and remove authorisations; one for every org only by an admin granted every org, as the collector checks. */
export function canRemoveUsb(user: User, entry: AuthorisedUsb): boolean {
  return user.role === 'admin' && (entry.org !== null || grantedEveryOrg(user));
}

/** How USB ids are written (lsusb): vendor:product, lower case. */
export function usbId(entry: Pick<AuthorisedUsb, 'vendorId' | 'productId'>): string {
  return `${entry.vendorId}:${entry.productId}`;
}

export interface UsbForm {
  /** An org, `everyOrgValue`, or '' before one is chosen. */
  org: string;
  vendorId: string;
  productId: string;
  serial: string;
  note: string;
}

export type UsbField = keyof UsbForm;

/** An admin of some orgs starts on their first; one of every org chooses (every org is not a default). */
export function emptyUsbForm(user: User, org?: string): UsbForm {
  return { org: org ?? (grantedEveryOrg(user) ? '' : (user.orgs[0] ?? '')), vendorId: '', productId: '', serial: '', note: '' };
}

const hex4 = /^[0-9a-f]{4}$/;
export const serialMax = 256;
export const noteMax = 2000;

/** Four hexadecimal digits, lower case; a pasted `0x0781` (lsusb -v) is accepted. Null when it is not one. */
export function parseUsbHexId(raw: string): string | null {
  const v = raw.trim().toLowerCase().replace(/^0x/, '');
  return hex4.test(v) ? v : null;
}

/** Checks the form before it goes to the collector, which checks it again. */
export function validateUsbForm(f: UsbForm): FormResult<AuthorisedUsbInput, UsbField> {
  const errors: Partial<Record<UsbField, MessageKey>> = {};
  if (!f.org) errors.org = 'usb.form.orgRequired';
  const vendorId = parseUsbHexId(f.vendorId);
  if (vendorId === null) errors.vendorId = 'usb.form.hexInvalid';
  const productId = parseUsbHexId(f.productId);
  if (productId === null) errors.productId = 'usb.form.hexInvalid';
  const serial = f.serial.trim();
  if (serial.length > serialMax) errors.serial = 'usb.form.serialTooLong';
  const note = f.note.trim();
  if (note.length > noteMax) errors.note = 'usb.form.noteTooLong';
  if (Object.keys(errors).length > 0 || vendorId === null || productId === null) return { ok: false, errors };
  return {
    ok: true,
    value: { org: f.org === everyOrgValue ? null : f.org, vendorId, productId, serial: serial || null, note: note || null },
  };
}
