import { z } from 'zod';
import { osName } from '../facts';

export const severity = z.enum(['low', 'medium', 'high', 'critical']);
export type Severity = z.infer<typeof severity>;
export const severityRank: Record<Severity, number> = { low: 0, medium: 1, high: 2, critical: 3 };

export const approvalStatus = z.enum(['approved', 'denied', 'unreviewed']);
export type ApprovalStatus = z.infer<typeof approvalStatus>;

const text = z.string().min(1).max(4000);
export const localised = z.object({ en: text, fr: text }).strict();
export type Localised = z.infer<typeof localised>;

/** Remediation steps may differ per OS; `default` covers the others. */
const perOs = z
  .object({ windows: text.optional(), macos: text.optional(), linux: text.optional(), default: text.optional() })
  .strict()
  .refine((v) => Object.keys(v).length > 0, 'give at least one of windows, macos, linux, default');
export const remediation = z.object({ en: z.union([text, perOs]), fr: z.union([text, perOs]) }).strict();
export type Remediation = z.infer<typeof remediation>;

export const encryptionCheck = z
  .object({
    kind: z.literal('encryption'),
    /** `system`: the boot volume only; `all`: every reported volume. */
    scope: z.enum(['system', 'all']).default('system'),
    /** Encrypted but with BitLocker protection suspended does not count as protected. */
    requireProtection: z.boolean().default(true),
  })
  .strict();

export const screenlockCheck = z
  .object({
    kind: z.literal('screenlock'),
    /** Idle time plus grace before a password is needed, at most. */
    maxSeconds: z.number().int().min(1).max(86400).default(900),
    requirePassword: z.boolean().default(true),
  })
  .strict();

export const softwareCheck = z
  .object({
    kind: z.literal('software'),
    /** Which approval statuses fail the rule. */
    failOn: z.array(approvalStatus).min(1).default(['denied', 'unreviewed']),
    /**
     * Which inventories the rule reads. Distribution packages (dpkg, rpm) are
     * left out by default: they are the OS itself, managed by its vendor.
     */
    sources: z
      .array(z.enum(['registry', 'dpkg', 'rpm', 'snap', 'flatpak', 'app', 'other']))
      .min(1)
      .default(['registry', 'app', 'snap', 'flatpak', 'other']),
  })
  .strict();

export const usbCheck = z
  .object({
    kind: z.literal('usb'),
    /** Only mass storage is covered by ISSP 9.10.3; keyboards and mice are not data carriers. */
    storageOnly: z.boolean().default(true),
    /**
     * USB connections the agent reported as they happened count for this many hours after the
     * collector received them, so a drive plugged in and out between two scans is not missed;
     * 0 counts only what the scans saw connected.
     */
    lookbackHours: z.number().int().min(0).max(24 * 90).default(24),
  })
  .strict();

export const checkinCheck = z
  .object({
    kind: z.literal('checkin'),
    maxSilentHours: z.number().min(1).max(24 * 90).default(24),
  })
  .strict();

export const check = z.discriminatedUnion('kind', [encryptionCheck, screenlockCheck, softwareCheck, usbCheck, checkinCheck]);
export type Check = z.infer<typeof check>;
export type CheckKind = Check['kind'];

const ciatLevel = z.number().int().min(0).max(4);

export const rule = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{1,63}$/, 'lower-case letters, digits and dashes'),
    title: localised,
    remediation,
    issp: z.array(z.string().regex(/^\d+(\.\d+)*$/, 'an ISSP rule number such as 9.10.6')).min(1),
    check,
    severity,
    /** A device at a CIAT level listed here gets at least that severity (ISSP section 6). */
    severityByCiat: z.partialRecord(z.enum(['0', '1', '2', '3', '4']), severity).default({}),
    platforms: z.array(osName).min(1).default(['windows', 'macos', 'linux']),
    ciatLevels: z.array(ciatLevel).min(1).default([0, 1, 2, 3, 4]),
    /** Days between a failure first seen and its due date. */
    graceDays: z.number().int().min(0).max(365),
  })
  .strict();
export type Rule = z.infer<typeof rule>;

export const policy = z
  .object({
    id: z.string().min(1).max(128),
    version: z.string().min(1).max(64),
    title: localised,
    /** How often agents report, in seconds. */
    reportIntervalSeconds: z.number().int().min(60).max(86400).default(900),
    rules: z.array(rule).min(1),
  })
  .strict()
  .superRefine((p, ctx) => {
    const seen = new Set<string>();
    p.rules.forEach((r, i) => {
      if (seen.has(r.id)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'id'], message: `duplicate rule id "${r.id}"` });
      seen.add(r.id);
    });
  });
export type Policy = z.infer<typeof policy>;
export type PolicyInput = z.input<typeof policy>;
