export type * from './runtime-types.ts';
export { initBackend, activeBackend, backendInfo } from './backend/select-backend.ts';
export type { BackendInfo } from './backend/select-backend.ts';
export { createEngineRuntime, RECALIBRATION_BATCHES } from './runtime/engine-runtime.ts';
export { Engine, SUPERNET_ID } from './training/engine.ts';
export { Supernet } from './network/supernet.ts';
export { measureLatencyTable } from './network/latency-table.ts';
export { learningRateAt } from './training/schedule.ts';
export * from './space/index.ts';
