/**
 * USB devices connected now on Windows: the present PnP devices of class USB
 * (Win32_PnPEntity, what Device Manager shows under "Universal Serial Bus
 * controllers"/"devices"), and the USB disks (Win32_DiskDrive, interface
 * USB) with the drive letters of their partitions, through CIM associations.
 * The disk is tied to its USB device by the serial number both ids end with.
 *
 * PowerShell is needed here because the disk → partition → volume links are
 * CIM associations that no built-in console tool prints (wmic is removed from
 * current Windows). It runs with -NoProfile -NonInteractive; the script only
 * reads. Output is forced to
 * UTF-8 so localised names ("USB-Massenspeichergerät") survive.
 *
 * Limits: UAS disks (fast USB 3 SSDs, driver UASPStor) show as SCSI disks in
 * Win32_DiskDrive, so they are reported as storage without drive letters.
 * Phones (MTP) are not storage and have no drive letter.
 */
import type { UsbSection } from '@vigie/shared';
import type { ProbeContext } from '../types';
import { parseWindowsPnp } from './parse-windows-pnp';

export const POWERSHELL = 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe';
const TIMEOUT_MS = 60_000;

export const USB_SCRIPT = [
  // Not allowed in Constrained Language Mode; the names may then come out in the OEM code page.
  'try { [Console]::OutputEncoding = New-Object System.Text.UTF8Encoding $false } catch { }',
  "$ErrorActionPreference = 'Stop'",
  "$usb = @(Get-CimInstance -ClassName Win32_PnPEntity -Filter \"PNPClass='USB' AND Present=TRUE\" | Select-Object PNPDeviceID, Name, Manufacturer, Service, Status)",
  "$disks = @(Get-CimInstance -ClassName Win32_DiskDrive -Filter \"InterfaceType='USB'\" | ForEach-Object {",
  '  $disk = $_',
  '  $letters = @(Get-CimAssociatedInstance -InputObject $disk -ResultClassName Win32_DiskPartition | ForEach-Object { Get-CimAssociatedInstance -InputObject $_ -ResultClassName Win32_LogicalDisk } | ForEach-Object { $_.DeviceID })',
  '  [pscustomobject]@{ PNPDeviceID = $disk.PNPDeviceID; Model = $disk.Model; SerialNumber = $disk.SerialNumber; DriveLetters = $letters }',
  '})',
  '[pscustomobject]@{ usb = $usb; disks = $disks } | ConvertTo-Json -Depth 4',
].join('\n');

// -EncodedCommand (base64 of UTF-16LE) passes the script untouched: the
// double quotes of the WQL filters would otherwise go through two layers of
// Windows command-line quoting.
export const POWERSHELL_ARGS = [
  '-NoProfile',
  '-NonInteractive',
  '-ExecutionPolicy',
  'Bypass',
  '-EncodedCommand',
  Buffer.from(USB_SCRIPT, 'utf16le').toString('base64'),
];

export async function collectUsbWindows(ctx: ProbeContext): Promise<UsbSection> {
  try {
    const result = await ctx.exec(POWERSHELL, POWERSHELL_ARGS, { timeoutMs: TIMEOUT_MS });
    if (result.timedOut) return { unknown: true, reason: 'PowerShell USB query timed out' };
    if (result.code !== 0) {
      return {
        unknown: true,
        reason: `PowerShell USB query failed (${result.error ?? `exit ${result.code}`}): ${result.stderr.trim().slice(0, 300)}`,
      };
    }
    return parseWindowsPnp(result.stdout);
  } catch (err) {
    return { unknown: true, reason: `USB inventory failed: ${(err as Error).message}` };
  }
}
