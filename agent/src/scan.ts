import { facts as factsSchema, sectionNames, type Facts, type SectionName } from '@vigie/shared';
import { collectDevice } from './probes/device';
import { collectEncryption } from './probes/encryption';
import { collectScreenlock } from './probes/screenlock';
import { collectSoftware } from './probes/software';
import { collectUsb } from './probes/usb';
import type { ProbeContext } from './probes/types';

type Collectors = { [K in SectionName]: (ctx: ProbeContext) => Promise<Facts[K]> };

export const collectors: Collectors = {
  device: collectDevice,
  encryption: collectEncryption,
  screenlock: collectScreenlock,
  software: collectSoftware,
  usb: collectUsb,
};

export function isSectionName(name: string): name is SectionName {
  return (sectionNames as readonly string[]).includes(name);
}

/**
 * Runs one probe. A probe is written never to throw, but a bug in one must not
 * cost the others their report: anything thrown becomes unknown with a reason.
 */
export async function scanSection<K extends SectionName>(name: K, ctx: ProbeContext): Promise<Facts[K]> {
  try {
    const section = await collectors[name](ctx);
    const checked = factsSchema.shape[name].safeParse(section);
    if (!checked.success) {
      return { unknown: true, reason: `probe output failed validation: ${checked.error.issues[0]?.message ?? 'invalid'}` } as Facts[K];
    }
    return checked.data as Facts[K];
  } catch (e) {
    return { unknown: true, reason: `probe failed: ${(e as Error).message}` } as Facts[K];
  }
}

/** Collects every section. Probes run one after another to keep the agent's footprint small. */
export async function scanAll(ctx: ProbeContext): Promise<Facts> {
  const result: Partial<Facts> = {};
  for (const name of sectionNames) {
    (result as Record<SectionName, unknown>)[name] = await scanSection(name, ctx);
  }
  return result as Facts;
}
