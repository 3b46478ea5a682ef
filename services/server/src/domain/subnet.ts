import type { Arch, Cost } from '@supernetd/sdk';

/** A subnet handed out by an experiment (domain form of the proto Subnet). */
export interface SubnetDomain {
  id: string;
  arch: Arch;
  cost: Cost;
  source: string;
  score: number;
}
