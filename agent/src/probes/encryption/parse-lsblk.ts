import type { EncryptionSection, Volume } from '@vigie/shared';
import { isRecord, stripBom, unknownSection, volumesSection } from './volume';

/*
 * `lsblk -J -o NAME,KNAME,TYPE,FSTYPE,MOUNTPOINTS,PKNAME,UUID` (util-linux ≥ 2.37
 * prints "mountpoints": [..]; older ones only "mountpoint": ".."), either as
 * the normal tree (disk → part → crypt → lvm) or inverted with -s (lvm → crypt
 * → part → disk):
 *   {"blockdevices": [{"name": "nvme0n1p3", "type": "part", "fstype": "crypto_LUKS",
 *     "children": [{"name": "nvme0n1p3_crypt", "kname": "dm-0", "type": "crypt",
 *       "children": [{"name": "xubuntu--vg-root", "type": "lvm", "mountpoints": ["/"]}]}]}]}
 *
 * A filesystem is encrypted when every path from it down to a disk crosses a
 * dm-crypt device, so LVM on LUKS counts (the root LV sits on the crypt
 * device; osquery once missed this: https://github.com/osquery/osquery/issues/7889).
 * An LV spread over an encrypted and a plain PV is not encrypted.
 */

export interface LsblkOptions {
  /** Device mounted on "/" per /proc/self/mounts, for when lsblk's single mountpoint shows another (btrfs subvolumes, bind mounts). */
  rootSource?: string;
  /** `cryptsetup status` summaries by crypt device name, for `method`. */
  methods?: Record<string, string | null>;
}

export interface LsblkAnalysis {
  volumes: Volume[];
  /** Names of the dm-crypt devices under the reported volumes, to ask cryptsetup about. */
  cryptNames: string[];
}

interface Node {
  key: string;
  name: string;
  kname: string;
  type: string;
  fstype: string | null;
  mountpoints: Set<string>;
  lowers: Set<string>;
}

const SKIPPED_TYPES = new Set(['loop', 'rom']);
const SKIPPED_FSTYPES = new Set(['squashfs', 'iso9660', 'erofs', 'swap', 'udf']);
const BOOT_MOUNTS = /^\/(boot|efi)(\/|$)/;

export function looksLikeLsblkJson(text: string): boolean {
  const t = stripBom(text).trim();
  if (!t.startsWith('{')) return false;
  try {
    const parsed: unknown = JSON.parse(t);
    return isRecord(parsed) && Array.isArray(parsed.blockdevices);
  } catch {
    return false;
  }
}

function str(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function readGraph(entries: unknown[]): Map<string, Node> | string {
  const nodes = new Map<string, Node>();
  let inverted = false;

  const visit = (entry: unknown, parent: Node | null, depth: number): string | null => {
    if (!isRecord(entry)) return 'a block device entry is not an object';
    const name = str(entry.name);
    const type = str(entry.type);
    if (!name || !type) return 'a block device has no name or type (run lsblk with -o NAME,TYPE,…)';
    const kname = str(entry.kname) ?? name;
    const key = kname;
    let node = nodes.get(key);
    if (!node) {
      node = { key, name, kname, type, fstype: str(entry.fstype), mountpoints: new Set(), lowers: new Set() };
      nodes.set(key, node);
    }
    const points = Array.isArray(entry.mountpoints) ? entry.mountpoints : [entry.mountpoint];
    for (const p of points) if (typeof p === 'string' && p !== '') node.mountpoints.add(p);
    if (depth > 0 && type === 'disk') inverted = true;
    if (parent) parent.lowers.add(key); // provisional: flipped below for the normal tree
    if (entry.children !== undefined) {
      if (!Array.isArray(entry.children)) return `children of ${name} is not an array`;
      for (const child of entry.children) {
        const err = visit(child, node, depth + 1);
        if (err) return err;
      }
    }
    return null;
  };

  for (const entry of entries) {
    const err = visit(entry, null, 0);
    if (err) return err;
  }
  if (!inverted) {
    // In the normal tree a child sits on its parent: the parent is the lower device.
    const edges: Array<[string, string]> = [];
    for (const node of nodes.values()) for (const lower of node.lowers) edges.push([node.key, lower]);
    for (const node of nodes.values()) node.lowers.clear();
    for (const [parent, child] of edges) nodes.get(child)?.lowers.add(parent);
  }
  return nodes;
}

interface Walk {
  all: boolean;
  any: boolean;
  crypts: Node[];
}

function walk(nodes: Map<string, Node>, node: Node, visiting: Set<string>): Walk {
  if (node.type === 'crypt') return { all: true, any: true, crypts: [node] };
  const lowers = [...node.lowers].map((k) => nodes.get(k)).filter((n): n is Node => n !== undefined && !visiting.has(n.key));
  if (lowers.length === 0) return { all: false, any: false, crypts: [] };
  visiting.add(node.key);
  const results = lowers.map((lower) => walk(nodes, lower, visiting));
  visiting.delete(node.key);
  return { all: results.every((r) => r.all), any: results.some((r) => r.any), crypts: results.flatMap((r) => r.crypts) };
}

function devicePath(node: Node): string {
  if (node.name.startsWith('/')) return node.name;
  return node.type === 'crypt' || node.type === 'lvm' || node.type === 'dm' || node.type === 'mpath' ? `/dev/mapper/${node.name}` : `/dev/${node.name}`;
}

function matchesSource(node: Node, source: string): boolean {
  const bare = source.replace(/^\/dev\/(mapper\/)?/, '');
  return source === devicePath(node) || bare === node.name || bare === node.kname;
}

function isReported(node: Node): boolean {
  if (SKIPPED_TYPES.has(node.type) || /^(zram|ram)\d/.test(node.kname)) return false;
  if (node.fstype && SKIPPED_FSTYPES.has(node.fstype)) return false;
  // The firmware must read /boot and the EFI partition, so they cannot be
  // encrypted and hold no user data; Windows' BitLocker does not list its EFI
  // partition either. A device also mounted elsewhere is still reported.
  return [...node.mountpoints].some((p) => p.startsWith('/') && !BOOT_MOUNTS.test(p));
}

export function analyseLsblk(text: string, options: LsblkOptions = {}): LsblkAnalysis | { reason: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stripBom(text).trim());
  } catch (err) {
    return { reason: `lsblk: not JSON (${(err as Error).message})` };
  }
  if (!isRecord(parsed) || !Array.isArray(parsed.blockdevices)) return { reason: 'lsblk: no "blockdevices" array' };
  const nodes = readGraph(parsed.blockdevices);
  if (typeof nodes === 'string') return { reason: `lsblk: ${nodes}` };

  if (options.rootSource) {
    const hasRoot = [...nodes.values()].some((n) => n.mountpoints.has('/'));
    const source = options.rootSource;
    const root = hasRoot ? undefined : [...nodes.values()].find((n) => matchesSource(n, source));
    root?.mountpoints.add('/');
  }

  const volumes: Volume[] = [];
  const cryptNames = new Set<string>();
  for (const node of nodes.values()) {
    if (!isReported(node)) continue;
    const path = walk(nodes, node, new Set());
    const crypt = path.crypts[0];
    for (const c of path.crypts) cryptNames.add(c.name);
    const fromCryptsetup = crypt ? options.methods?.[crypt.name] : undefined;
    const onLuks = crypt !== undefined && [...crypt.lowers].some((k) => nodes.get(k)?.fstype === 'crypto_LUKS');
    const mountPoint = node.mountpoints.has('/') ? '/' : ([...node.mountpoints].find((p) => p.startsWith('/')) ?? null);
    volumes.push({
      id: devicePath(node),
      mountPoint,
      system: node.mountpoints.has('/'),
      technology: path.any ? 'luks' : 'none',
      // Partly on an encrypted device is not encrypted: data can land on the plain part.
      status: path.all ? 'encrypted' : 'decrypted',
      percent: null,
      protection: path.all ? 'on' : 'off',
      method: path.any ? (fromCryptsetup ?? (onLuks ? 'LUKS' : null)) : null,
    });
  }
  // "/" first, then by mount point, so reports are stable whatever order lsblk walks in.
  volumes.sort((a, b) => Number(b.system) - Number(a.system) || (a.mountPoint ?? '').localeCompare(b.mountPoint ?? ''));
  return { volumes, cryptNames: [...cryptNames] };
}

export function parseLsblk(text: string, options: LsblkOptions = {}): EncryptionSection {
  const analysis = analyseLsblk(text, options);
  if ('reason' in analysis) return unknownSection(analysis.reason);
  if (analysis.volumes.length === 0) return unknownSection('lsblk shows no filesystem mounted from a disk (a container, or a network root?)');
  if (!analysis.volumes.some((v) => v.system)) {
    return unknownSection('lsblk shows no block device mounted on "/", so the system volume cannot be told');
  }
  return volumesSection(analysis.volumes);
}
