import { Mean } from '@tensorflow/tfjs-core';
import type { KernelWrapper } from './kernel-config.ts';
import { makeReduceKernel } from './reduce-rows.ts';

/** Mean over leading or middle axes adds rows in place (reduce-rows.ts); other means go to the backend's kernel. */
export const meanWrapper: KernelWrapper = { kernelName: Mean, wrap: (original) => makeReduceKernel(original, true) };
