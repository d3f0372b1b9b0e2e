import { z } from 'zod';

/**
 * A probe that could not tell says so. Unknown is never read as compliant: the
 * policy engine turns it into an `unknown` finding, not a pass.
 */
export const unknownSection = canonicalObject({ unknown: z.literal(true), reason: z.string().min(1).max(2000) });
export type UnknownSection = z.infer<typeof unknownSection>;

/** A section is either what the probe measured or an explicit unknown. */
export function orUnknown<T extends z.ZodTypeAny>(schema: T) {
  return z.union([unknownSection, schema]);
}

export function isUnknown(section: unknown): section is UnknownSection {
  return typeof section === 'object' && section !== null && (section as { unknown?: unknown }).unknown === true;
}

/**
 * A strict object whose parsed value has its keys in sorted order: the canonical order the facts
 * hash sorts them into (shared/src/protocol/hash.ts). The collector can then take a validated
 * section's plain JSON as its canonical text instead of re-sorting 300 objects per report.
 * Declarations keep their readable order; only the schema's key order is sorted.
 */
export function canonicalObject<T extends z.ZodRawShape>(shape: T) {
  const sorted = Object.fromEntries(Object.keys(shape).sort().map((k) => [k, shape[k]])) as T;
  return z.object(sorted).strict();
}

const shortText = z.string().max(1024);

export const volume = canonicalObject({
    id: z.string().min(1).max(512),
    mountPoint: z.string().max(4096).nullable(),
    system: z.boolean(),
    technology: z.enum(['bitlocker', 'filevault', 'luks', 'none', 'unknown']),
    status: z.enum(['encrypted', 'encrypting', 'decrypting', 'decrypted', 'unknown']),
    percent: z.number().min(0).max(100).nullable(),
    protection: z.enum(['on', 'off', 'unknown']),
    method: shortText.nullable(),
  });
export type Volume = z.infer<typeof volume>;

export const encryptionFacts = canonicalObject({ volumes: z.array(volume).max(256) });
export type EncryptionFacts = z.infer<typeof encryptionFacts>;

export const screenlockFacts = canonicalObject({
    enabled: z.boolean().nullable(),
    /** Idle time before the screen saver or lock starts; 0 means never. */
    idleSeconds: z.number().int().min(0).nullable(),
    /** Delay after the screen saver starts before a password is needed. */
    graceSeconds: z.number().int().min(0).nullable(),
    requirePassword: z.boolean().nullable(),
    /** Which mechanism the values come from, e.g. "gsettings", "kscreenlockerrc", "policy:InactivityTimeoutSecs". */
    source: z.string().min(1).max(256),
    user: shortText.nullable(),
  });
export type ScreenlockFacts = z.infer<typeof screenlockFacts>;

export const softwareSource = z.enum(['registry', 'dpkg', 'rpm', 'snap', 'flatpak', 'app', 'other']);
export const softwareItem = canonicalObject({
    name: z.string().min(1).max(1024),
    version: shortText.nullable(),
    publisher: shortText.nullable(),
    source: softwareSource,
    scope: z.enum(['machine', 'user']),
    installedAt: z.string().max(64).nullable(),
  });
export type SoftwareItem = z.infer<typeof softwareItem>;

export const softwareFacts = canonicalObject({ items: z.array(softwareItem).max(20000) });
export type SoftwareFacts = z.infer<typeof softwareFacts>;

const hex4 = z.string().regex(/^[0-9a-f]{4}$/, 'expected 4 lower-case hex digits');

export const usbDevice = canonicalObject({
    vendorId: hex4,
    productId: hex4,
    vendor: shortText.nullable(),
    product: shortText.nullable(),
    serial: shortText.nullable(),
    storage: z.boolean(),
    mountPoints: z.array(z.string().max(4096)).max(64),
  });
export type UsbDevice = z.infer<typeof usbDevice>;

export const usbEvent = canonicalObject({
    at: z.iso.datetime({ offset: true }),
    action: z.enum(['connected', 'disconnected', 'mounted']),
    device: usbDevice,
    user: shortText.nullable(),
  });
export type UsbEvent = z.infer<typeof usbEvent>;

export const usbFacts = canonicalObject({ devices: z.array(usbDevice).max(256), events: z.array(usbEvent).max(10000) });
export type UsbFacts = z.infer<typeof usbFacts>;

export const osName = z.enum(['windows', 'macos', 'linux']);
export type OsName = z.infer<typeof osName>;

export const deviceFacts = canonicalObject({
    machineId: z.string().min(1).max(256),
    hostname: z.string().max(256),
    os: osName,
    osVersion: shortText,
    model: shortText,
    serial: shortText,
    user: shortText.nullable(),
  });
export type DeviceFacts = z.infer<typeof deviceFacts>;
