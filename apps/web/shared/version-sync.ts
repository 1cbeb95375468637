/** How far the connected agents got with one config version (the console's "applied on N/M instances"). */
export interface VersionSync {
  version: number;
  total: number;
  applied: number;
  nacked: number;
  pending: number;
  errors: string[];
}
