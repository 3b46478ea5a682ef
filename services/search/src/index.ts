// Contributor conventions (layout, imports, tests, errors): CONTRIBUTING.md at the repository root.
export { runSearchCommand, EXIT_USAGE } from './search-command.ts';
export { runSearch, EXIT_INTERRUPTED } from './search-run.ts';
export type { SearchIo, ServerHandle, StartServer } from './search-run.ts';
export { parseSearchArgs, parseBudgets, stepsForEpochs, UsageError, SEARCH_USAGE, SEARCH_STRATEGIES } from './search-args.ts';
export type { SearchOptions, SearchCommand, DatasetChoice } from './search-args.ts';
export { SearchApi, ApiCallError } from './search-api.ts';
export { RunDir, RUN_FILES, budgetDirName } from './run-dir.ts';
export type { RunSummary, BudgetResult, RunManifest, ProgressRecord, ProbeRecord, MetricLine } from './run-dir.ts';
export { loadRun, writeRunReport, writeCombinedReport } from './report.ts';
export { renderPlot, niceTicks, formatTick, escapeXml } from './svg-plot.ts';
export type { PlotSpec, PlotSeries } from './svg-plot.ts';
export { paretoFront } from './pareto.ts';
export { spaceFlopsRange, defaultBudgets, singleArchDefinition } from './space-costs.ts';
export { startInProcessServer } from './in-process-server.ts';
export { trainAlone } from './train-alone.ts';
export type { TrainAloneResult, TrainAloneSettings } from './train-alone.ts';
export { QUICK_STRATEGY_CONFIG } from './search-args.ts';
