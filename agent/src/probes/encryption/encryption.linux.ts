/**
 * Disk encryption on Linux: for every filesystem mounted from a real block
 * device (loop/snap images, optical media, zram, swap, and /boot or the EFI
 * partition, which firmware must read in the clear, are skipped), whether
 * every device beneath it down to the disk passes through dm-crypt (LUKS1,
 * LUKS2 or plain). The volume mounted on "/" is the system volume.
 *
 * lsblk gives the device tree, including LVM on LUKS, which osquery's
 * disk_encryption table long got wrong
 * (https://github.com/osquery/osquery/issues/7889,
 * https://github.com/osquery/osquery/issues/8402). util-linux before 2.37
 * knows only the MOUNTPOINT column, so the probe retries with it; its single
 * mount point may hide "/" on btrfs, which /proc/self/mounts then supplies.
 * `cryptsetup status` (root only) adds the LUKS version and cipher; without
 * it the method stays "LUKS" or unknown.
 * Limits: fscrypt/eCryptfs home directories, ZFS native encryption and
 * self-encrypting drives are not seen; such a system reports "none".
 */
import type { EncryptionSection } from '@vigie/shared';
import type { ProbeContext } from '../types';
import { describeCryptsetup, readCryptsetupStatus } from './parse-cryptsetup';
import { analyseLsblk, parseLsblk } from './parse-lsblk';
import { runFirstFound } from './run';
import { unknownSection } from './volume';

export const LSBLK_PATHS = ['/usr/bin/lsblk', '/bin/lsblk'] as const;
export const CRYPTSETUP_PATHS = ['/usr/sbin/cryptsetup', '/sbin/cryptsetup'] as const;
export const LSBLK_ARGS = ['-J', '-o', 'NAME,KNAME,TYPE,FSTYPE,MOUNTPOINTS,PKNAME,UUID'] as const;
export const LSBLK_ARGS_OLD = ['-J', '-o', 'NAME,KNAME,TYPE,FSTYPE,MOUNTPOINT,PKNAME,UUID'] as const;
const TIMEOUT_MS = 20_000;
const MAX_CRYPTSETUP_CALLS = 16;

/** The device mounted on "/" according to the kernel; the last matching line wins (over-mounts). */
export function rootSourceFromMounts(mounts: string): string | undefined {
  let source: string | undefined;
  for (const line of mounts.split('\n')) {
    const [device, target] = line.split(' ');
    if (target === '/' && device?.startsWith('/dev/')) source = device.replace(/\\040/g, ' ');
  }
  return source;
}

export async function collectEncryptionLinux(ctx: ProbeContext): Promise<EncryptionSection> {
  try {
    let lsblk = await runFirstFound(ctx, LSBLK_PATHS, LSBLK_ARGS, TIMEOUT_MS);
    if (!lsblk.ok && /unknown column/i.test(lsblk.reason)) {
      lsblk = await runFirstFound(ctx, LSBLK_PATHS, LSBLK_ARGS_OLD, TIMEOUT_MS);
    }
    if (!lsblk.ok) return unknownSection(`lsblk: ${lsblk.reason}`);

    let rootSource: string | undefined;
    try {
      rootSource = rootSourceFromMounts(await ctx.readFile('/proc/self/mounts'));
    } catch {
      rootSource = undefined; // lsblk's own mount points are then all we have
    }

    const analysis = analyseLsblk(lsblk.stdout, { rootSource });
    if ('reason' in analysis) return unknownSection(analysis.reason);

    const methods: Record<string, string | null> = {};
    for (const name of analysis.cryptNames.slice(0, MAX_CRYPTSETUP_CALLS)) {
      const status = await runFirstFound(ctx, CRYPTSETUP_PATHS, ['status', name], TIMEOUT_MS);
      if (!status.ok) continue; // not root, or cryptsetup missing: the method stays coarse
      const parsed = readCryptsetupStatus(status.stdout);
      if (!('reason' in parsed) && parsed.active) methods[name] = describeCryptsetup(parsed);
    }
    return parseLsblk(lsblk.stdout, { rootSource, methods });
  } catch (err) {
    return unknownSection(`disk encryption probe failed: ${(err as Error).message}`);
  }
}
