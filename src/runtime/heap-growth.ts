import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the old generation grow past what survived the last full collection, in per
 * cent. V8 otherwise derives the factor from how fast the program allocates, and for a proxy that
 * keeps little and moves a lot it settles at the minimum (about 10%). After a busy spell has
 * grown the young generation to its full size, that headroom is smaller than the young
 * generation itself, and V8 then starts a new full marking right after each one ends: a 64 MiB
 * upload through the proxy paid for about two full collections, 40–60 ms of CPU. Half the live
 * heap of headroom (25 MiB at Stowage's size) keeps full collections rare.
 */
const HEAP_GROWING_PERCENT = 50;
const FLAG = '--heap-growing-percent';

/**
 * Sets V8's heap growing factor for a long-running server, unless node was started with its own
 * `--heap-growing-percent` (node's command line, not NODE_OPTIONS, which does not take it).
 * V8 reads the flag each time it recomputes its limits, so setting it at start-up is enough.
 */
export function tuneHeapGrowth(execArgv: readonly string[] = process.execArgv): boolean {
  if (execArgv.some((arg) => arg.split('=')[0].replace(/_/g, '-') === FLAG)) return false;
  setFlagsFromString(`${FLAG}=${HEAP_GROWING_PERCENT}`);
  return true;
}
