import { Sum } from '@tensorflow/tfjs-core';
import type { KernelWrapper } from './kernel-config.ts';
import { makeReduceKernel } from './reduce-rows.ts';

/** Sum over leading or middle axes adds rows in place (reduce-rows.ts); other sums go to the backend's kernel. */
export const sumWrapper: KernelWrapper = { kernelName: Sum, wrap: (original) => makeReduceKernel(original, false) };
