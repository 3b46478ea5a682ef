#!/usr/bin/env node
// The `supernetd` command: registers the tsx loader (no build step), then runs the CLI
// (../cli.ts: serve, search, report, export).
import { register } from 'tsx/esm/api';

register();
await import('../cli.ts');
