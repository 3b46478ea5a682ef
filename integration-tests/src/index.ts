// Test harness of the container integration suite (see docs/deployment.md).
export * from './docker-environment.ts';
export * from './server-image.ts';
export * from './supernetd-container.ts';
export * from './free-port.ts';
export * from './supernet-rpc.ts';
export * from './experiment-fixtures.ts';
export * from './prometheus-scrape.ts';
export * from './latency-stats.ts';
export * from './exported-model.ts';
export * from './train-stream.ts';
export * from './run-command.ts';
