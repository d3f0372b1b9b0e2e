import type { SectionName } from '@vigie/shared';
import { deviceFormats } from './probes/device';
import { encryptionFormats } from './probes/encryption';
import type { OutputFormat } from './probes/format';
import { screenlockFormats } from './probes/screenlock';
import { softwareFormats } from './probes/software';
import { usbFormats } from './probes/usb';

/** Every tool output `vigie-agent parse` knows, per probe, in the order they are tried. */
export const formatsByProbe: Record<SectionName, readonly OutputFormat<unknown>[]> = {
  device: deviceFormats,
  encryption: encryptionFormats,
  screenlock: screenlockFormats,
  software: softwareFormats,
  usb: usbFormats,
};

export type Recognised = { ok: true; format: OutputFormat<unknown>; section: unknown } | { ok: false; known: readonly OutputFormat<unknown>[] };

/** Finds which tool printed `text` and parses it. */
export function recognise(probe: SectionName, text: string): Recognised {
  const known = formatsByProbe[probe];
  const format = known.find((f) => f.detect(text));
  if (!format) return { ok: false, known };
  return { ok: true, format, section: format.parse(text) };
}
