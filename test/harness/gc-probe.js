'use strict';
/*
 * Preloaded (`-r`) into a child app started with `--expose-gc` by tests that measure memory: on
 * SIGUSR2 it collects garbage fully and prints the heap figures as a log line
 * (`{"msg":"gc probe <n>", ...}`), so a test can tell memory held from garbage not yet collected.
 */
let probes = 0;
process.on('SIGUSR2', () => {
  globalThis.gc();
  globalThis.gc();
  const m = process.memoryUsage();
  process.stdout.write(
    `${JSON.stringify({ msg: `gc probe ${++probes}`, heap_used: m.heapUsed, heap_total: m.heapTotal, external: m.external, array_buffers: m.arrayBuffers, rss: m.rss })}\n`,
  );
});
