// Types for the systeminformation submodules the device probe loads directly
// (see ./index.ts for why). The package's own types describe only its index,
// whose functions are these very exports.
declare module 'systeminformation/lib/osinfo.js' {
  export { osInfo } from 'systeminformation';
}
declare module 'systeminformation/lib/system.js' {
  export { system } from 'systeminformation';
}
declare module 'systeminformation/lib/users.js' {
  export { users } from 'systeminformation';
}
declare module 'systeminformation/lib/util.js' {
  export function getCodepage(): string;
  export function getPowershell(): void;
}
