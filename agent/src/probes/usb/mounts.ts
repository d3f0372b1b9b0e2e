/**
 * Mount points by device node from /proc/self/mounts (the kernel's table, the
 * same inside and outside a user's session):
 *
 *   /dev/sdb1 /media/clement/CAUMES vfat rw,nosuid,nodev,relatime,uid=1000 0 0
 *   /dev/sdc1 /media/marie/MY\040DISK exfat rw,nosuid,nodev 0 0
 *
 * Spaces, tabs, newlines and backslashes in paths are written as octal escapes.
 */
export function parseMounts(text: string): Map<string, string[]> {
  const bySource = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const [source, target] = line.split(' ');
    if (!source || !target || !source.startsWith('/dev/')) continue;
    const mountPoint = unescapeOctal(target);
    const list = bySource.get(source) ?? [];
    if (!list.includes(mountPoint)) list.push(mountPoint);
    bySource.set(source, list);
  }
  return bySource;
}

function unescapeOctal(value: string): string {
  return value.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}
