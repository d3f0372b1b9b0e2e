/**
 * One tool's output that a probe can parse. `vigie-agent parse` tries each
 * format's `detect` in order, so support staff can paste any supported output
 * and get the normalised section back.
 */
export interface OutputFormat<Section> {
  /** Short stable name, e.g. "manage-bde", "lsblk-json". */
  name: string;
  /** What prints it, e.g. "manage-bde -status (English, French or German)". */
  description: string;
  detect: (text: string) => boolean;
  parse: (text: string) => Section;
}
