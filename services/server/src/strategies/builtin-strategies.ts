/** Package names of the built-in strategies, registered with origin `builtin`. */
export const BUILTIN_STRATEGY_PACKAGES = [
  '@supernetd/strategy-uniform',
  '@supernetd/strategy-sandwich',
  '@supernetd/strategy-pss',
  '@supernetd/strategy-cafenet',
  '@supernetd/strategy-dna',
] as const;
