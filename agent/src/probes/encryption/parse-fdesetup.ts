import type { EncryptionSection, Volume } from '@vigie/shared';
import { firstLine, stripBom, unknownSection, volumesSection } from './volume';
import type { Protection, VolumeStatus } from './volume';

/*
 * `fdesetup status` speaks only of the startup disk, in English on every locale:
 *   FileVault is On.
 *   FileVault is On.\nEncryption in progress: Percent completed = 35.1
 *   FileVault is On.\nEncryption in progress: Pending          (on battery, not started)
 *   FileVault is Off.\nDecryption in progress: Percent complete = 35.00
 *   FileVault is Off.\nDeferred enablement appears to be active for user 'jdoe'.
 *   FileVault is Off, but will be enabled after the next restart.
 */

export interface FileVaultState {
  status: VolumeStatus;
  /** Percentage of the volume that is encrypted (a decryption's progress is turned around). */
  percent: number | null;
  protection: Protection;
}

const FDESETUP_LINE = /^(FileVault is (On|Off)\b|(En|De)cryption in progress\b|Deferred enablement appears to be active)/m;

export function looksLikeFdesetupStatus(text: string): boolean {
  const t = stripBom(text).trim();
  return !t.startsWith('<') && !t.startsWith('{') && !t.startsWith('[') && FDESETUP_LINE.test(t);
}

function progress(line: string): number | null {
  const m = /percent complete(?:d)?\s*=\s*(\d+(?:[.,]\d+)?)/i.exec(line);
  if (!m?.[1]) return null;
  const n = Number(m[1].replace(',', '.'));
  return Number.isFinite(n) && n >= 0 && n <= 100 ? n : null;
}

/** Reads the state of the startup volume, or explains why it cannot. */
export function fileVaultState(text: string): FileVaultState | { reason: string } {
  const t = stripBom(text).trim();
  if (t === '') return { reason: 'fdesetup status printed nothing' };
  const on = /^FileVault is On\b/m.test(t);
  const off = /^FileVault is Off\b/m.test(t);
  const encrypting = /^Encryption in progress:(.*)$/m.exec(t);
  const decrypting = /^Decryption in progress:(.*)$/m.exec(t);
  if (encrypting) {
    return { status: 'encrypting', percent: progress(encrypting[1] ?? ''), protection: on ? 'on' : 'unknown' };
  }
  if (decrypting) {
    const done = progress(decrypting[1] ?? '');
    return { status: 'decrypting', percent: done === null ? null : Math.round((100 - done) * 100) / 100, protection: on ? 'on' : 'off' };
  }
  // "needs to be restarted to finish": the change is not done, and we cannot tell which way it leans.
  if (/needs to be restarted/i.test(t)) return { status: 'unknown', percent: null, protection: 'unknown' };
  if (on && !off) return { status: 'encrypted', percent: 100, protection: 'on' };
  // "will be enabled after the next restart" and deferred enablement are still Off today.
  if (off || /^Deferred enablement appears to be active/m.test(t)) return { status: 'decrypted', percent: 0, protection: 'off' };
  return { reason: `fdesetup status: unrecognised output ("${firstLine(t)}")` };
}

/** The startup volume alone, for `vigie-agent parse`; the collector merges it with diskutil's view. */
export function parseFdesetupStatus(text: string): EncryptionSection {
  const state = fileVaultState(text);
  if ('reason' in state) return unknownSection(state.reason);
  const volume: Volume = {
    id: 'startup-disk',
    mountPoint: '/',
    system: true,
    technology: 'filevault',
    status: state.status,
    percent: state.percent,
    protection: state.protection,
    method: null,
  };
  return volumesSection([volume]);
}
