// Contributor conventions (layout, imports, tests, errors): CONTRIBUTING.md at the repository root.
export { strategy, DnaStrategy, DNA_SOURCE, encodings } from './dna-strategy.ts';
export type { BlockRating, CandidateRating, DnaPhase } from './dna-strategy.ts';
export { parseDnaConfig } from './dna-config.ts';
export type { DnaConfig } from './dna-config.ts';
export { branchAndBound, bruteForce } from './block-search.ts';
export type { BlockCandidate, SearchResult } from './block-search.ts';
export { opCostTable, opCounts } from './op-costs.ts';
export type { OpCostTable } from './op-costs.ts';
export { AuxTeacher, LayersModelTeacher } from './teacher.ts';
export type { Teacher, TeacherFeatures } from './teacher.ts';
