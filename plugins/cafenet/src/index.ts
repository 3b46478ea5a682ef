// Contributor conventions (layout, imports, tests, errors): CONTRIBUTING.md at the repository root.
export { strategy, CafeNetStrategy, CAFENET_SEARCH_SOURCE } from './cafenet-strategy.ts';
export { parseCafeNetConfig } from './cafenet-config.ts';
export type { CafeNetConfig } from './cafenet-config.ts';
export { flopsSensitiveBins, binChannels } from './bins.ts';
export type { ChoiceBins } from './bins.ts';
export {
  localZone,
  combinations,
  placementCount,
  randomPlacement,
  leftmostPlacement,
  allPlacements,
  samplePlacements,
  toArch,
  fromArch,
  widthKey,
} from './placement.ts';
export type { BinWidth, Placement } from './placement.ts';
export { PlacementMemory } from './placement-memory.ts';
