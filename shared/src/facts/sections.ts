import { z } from 'zod';

/**
 * A probe that could not tell says so. Unknown is never read as compliant: the
 * policy engine turns it into an `unknown` finding, not a pass.
 */
export const unknownSection = z
  .object({ unknown: z.literal(true), reason: z.string().min(1).max(2000) })
  .strict();
export type UnknownSection = z.infer<typeof unknownSection>;

/** A section is either what the probe measured or an explicit unknown. */
export function orUnknown<T extends z.ZodTypeAny>(schema: T) {
  return z.union([unknownSection, schema]);
}

export function isUnknown(section: unknown): section is UnknownSection {
  return typeof section === 'object' && section !== null && (section as { unknown?: unknown }).unknown === true;
}

const shortText = z.string().max(1024);

export const volume = z
  .object({
    id: z.string().min(1).max(512),
    mountPoint: z.string().max(4096).nullable(),
    system: z.boolean(),
    technology: z.enum(['bitlocker', 'filevault', 'luks', 'none', 'unknown']),
    status: z.enum(['encrypted', 'encrypting', 'decrypting', 'decrypted', 'unknown']),
    percent: z.number().min(0).max(100).nullable(),
    protection: z.enum(['on', 'off', 'unknown']),
    method: shortText.nullable(),
  })
  .strict();
export type Volume = z.infer<typeof volume>;

export const encryptionFacts = z.object({ volumes: z.array(volume).max(256) }).strict();
export type EncryptionFacts = z.infer<typeof encryptionFacts>;

export const screenlockFacts = z
  .object({
    enabled: z.boolean().nullable(),
    /** Idle time before the screen saver or lock starts; 0 means never. */
    idleSeconds: z.number().int().min(0).nullable(),
    /** Delay after the screen saver starts before a password is needed. */
    graceSeconds: z.number().int().min(0).nullable(),
    requirePassword: z.boolean().nullable(),
    /** Which mechanism the values come from, e.g. "gsettings", "kscreenlockerrc", "policy:InactivityTimeoutSecs". */
    source: z.string().min(1).max(256),
    user: shortText.nullable(),
  })
  .strict();
export type ScreenlockFacts = z.infer<typeof screenlockFacts>;

export const softwareSource = z.enum(['registry', 'dpkg', 'rpm', 'snap', 'flatpak', 'app', 'other']);
export const softwareItem = z
  .object({
    name: z.string().min(1).max(1024),
    version: shortText.nullable(),
    publisher: shortText.nullable(),
    source: softwareSource,
    scope: z.enum(['machine', 'user']),
    installedAt: z.string().max(64).nullable(),
  })
  .strict();
export type SoftwareItem = z.infer<typeof softwareItem>;

export const softwareFacts = z.object({ items: z.array(softwareItem).max(20000) }).strict();
export type SoftwareFacts = z.infer<typeof softwareFacts>;

const hex4 = z.string().regex(/^[0-9a-f]{4}$/, 'expected 4 lower-case hex digits');

export const usbDevice = z
  .object({
    vendorId: hex4,
    productId: hex4,
    vendor: shortText.nullable(),
    product: shortText.nullable(),
    serial: shortText.nullable(),
    storage: z.boolean(),
    mountPoints: z.array(z.string().max(4096)).max(64),
  })
  .strict();
export type UsbDevice = z.infer<typeof usbDevice>;

export const usbEvent = z
  .object({
    at: z.iso.datetime({ offset: true }),
    action: z.enum(['connected', 'disconnected', 'mounted']),
    device: usbDevice,
    user: shortText.nullable(),
  })
  .strict();
export type UsbEvent = z.infer<typeof usbEvent>;

export const usbFacts = z
  .object({ devices: z.array(usbDevice).max(256), events: z.array(usbEvent).max(10000) })
  .strict();
export type UsbFacts = z.infer<typeof usbFacts>;

export const osName = z.enum(['windows', 'macos', 'linux']);
export type OsName = z.infer<typeof osName>;

export const deviceFacts = z
  .object({
    machineId: z.string().min(1).max(256),
    hostname: z.string().max(256),
    os: osName,
    osVersion: shortText,
    model: shortText,
    serial: shortText,
    user: shortText.nullable(),
  })
  .strict();
export type DeviceFacts = z.infer<typeof deviceFacts>;
