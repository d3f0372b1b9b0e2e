import { z } from 'zod';
import {
  canonicalObject,
  deviceFacts,
  encryptionFacts,
  orUnknown,
  screenlockFacts,
  softwareFacts,
  usbFacts,
} from './sections';

export * from './sections';

export const sectionNames = ['device', 'encryption', 'screenlock', 'software', 'usb'] as const;
export type SectionName = (typeof sectionNames)[number];

export const encryptionSection = orUnknown(encryptionFacts);
export const screenlockSection = orUnknown(screenlockFacts);
export const softwareSection = orUnknown(softwareFacts);
export const usbSection = orUnknown(usbFacts);
export const deviceSection = orUnknown(deviceFacts);

export type EncryptionSection = z.infer<typeof encryptionSection>;
export type ScreenlockSection = z.infer<typeof screenlockSection>;
export type SoftwareSection = z.infer<typeof softwareSection>;
export type UsbSection = z.infer<typeof usbSection>;
export type DeviceSection = z.infer<typeof deviceSection>;

/** The schema for each section, by name: the one map agent, collector and console share. */
export const sectionSchemas = {
  device: deviceSection,
  encryption: encryptionSection,
  screenlock: screenlockSection,
  software: softwareSection,
  usb: usbSection,
} as const;

/**
 * A full set of facts. Every section is present; a probe that failed reports
 * `{ unknown: true, reason }` rather than leaving its section out.
 */
export const facts = canonicalObject({
  device: deviceSection,
  encryption: encryptionSection,
  screenlock: screenlockSection,
  software: softwareSection,
  usb: usbSection,
});
export type Facts = z.infer<typeof facts>;

/** Some sections only: what a delta report carries, and what the policy engine may be given. */
export const partialFacts = facts.partial();
export type PartialFacts = z.infer<typeof partialFacts>;
export * from './samples';
export * from './list-changes';
