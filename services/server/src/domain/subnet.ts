import type { Arch, Cost } from '@supernetd/sdk';

/** A subnet handed out by an experiment: its architecture, cost and where it came from. */
export interface Subnet {
  id: string;
  arch: Arch;
  cost: Cost;
  source: string;
  score: number;
}
