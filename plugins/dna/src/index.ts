// Contributor conventions (layout, imports, tests, errors): CONTRIBUTING.md at the repository root.
export { strategy, DnaStrategy, DNA_SOURCE, encodings } from './dna-strategy.ts';
export type { BlockRating, CandidateRating, DnaPhase, TeacherEvaluation } from './dna-strategy.ts';
export { DEFAULT_TEACHER_FRACTION, parseDnaConfig } from './dna-config.ts';
export type { DnaConfig } from './dna-config.ts';
export { NODES_PER_YIELD, branchAndBound, branchAndBoundAsync, bruteForce } from './block-search.ts';
export type { BlockCandidate, SearchResult } from './block-search.ts';
export { opCostTable, opCounts } from './op-costs.ts';
export type { OpCostTable } from './op-costs.ts';
export { AuxTeacher, LayersModelTeacher } from './teacher.ts';
export type { Teacher, TeacherFeatures } from './teacher.ts';
export { deriveTeacherDefinition } from './teacher-definition.ts';
