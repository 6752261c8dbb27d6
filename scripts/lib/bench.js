'use strict';

// Shared pieces of the benchmark scripts: CPU pinning, load generation, and the table.

const { spawnSync } = require('node:child_process');
const { readFileSync } = require('node:fs');
const { cpus } = require('node:os');

const CLOCK_TICKS = 100; // USER_HZ, 100 on Linux on every mainstream architecture

/** True when `taskset` exists and accepts these arguments. */
function tasksetWorks(args) {
  const result = spawnSync('taskset', args, { stdio: 'ignore' });
  return !result.error && result.status === 0;
}

/**
 * The CPU layout of a benchmark on this machine: Stowage alone on CPU 0, this process (the load
 * generator) on the others. `layout` `split` (BENCH_LAYOUT's default) also moves every thread of
 * the S3 server onto the load generator's CPUs, so Stowage has a core to itself as a replica on
 * its own host would, and both sides of a comparison face the same upstream; `shared` leaves the
 * S3 server free to run on CPU 0 too, where every cycle Stowage spends is taken from the
 * upstream (Stowage squeezed onto the storage server's host). Returns `pin` (start Stowage with
 * `taskset -c 0`) and `pinS3Server(s3)`, which applies the layout and says what it did.
 */
function cpuLayout(layout = process.env.BENCH_LAYOUT ?? 'split') {
  const pin = tasksetWorks(['-c', '0', 'true']);
  const others = Array.from({ length: Math.max(1, cpus().length - 1) }, (_, i) => i + 1).join(',');
  const split = pin && cpus().length > 1 && tasksetWorks(['-cp', others, String(process.pid)]);
  if (!split) console.log('note: taskset unavailable; Stowage, the S3 server and the load generator share the CPUs');
  const pinS3Server = (s3) => {
    if (!split) return;
    // Every thread of every process of the S3 server (-a), on the load generator's CPUs.
    const pinned = layout === 'split' && s3.pids().every((pid) => tasksetWorks(['-a', '-cp', others, String(pid)]));
    console.log(
      pinned
        ? `layout split: Stowage alone on CPU 0; the S3 server and the load generator on CPU ${others}`
        : `layout shared: Stowage on CPU 0, the load generator on CPU ${others}, the S3 server on any CPU`,
    );
  };
  return { pin, split, pinS3Server };
}

/** CPU seconds used so far by a process (utime + stime from /proc), or undefined off Linux. */
function processCpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** The `p`th percentile (0..100) of ascending `sorted` values, nearest rank. */
function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/**
 * Drives `url` with autocannon for `seconds` and returns the result plus the CPU the client
 * and (when `serverPid` is given) the server spent per wall-clock second. `request` adds
 * autocannon options (method, body, setupClient). With `precise`, every response time is kept
 * and `latency` holds their p50 and p99 in fractional milliseconds (autocannon's own histogram
 * has whole milliseconds only).
 */
async function load({
  url,
  headers = {},
  seconds,
  connections = 50,
  pipelining = 1,
  serverPid,
  request = {},
  precise,
}) {
  const autocannon = require('autocannon');
  const startCpu = process.cpuUsage();
  const startServerCpu = serverPid ? processCpuSeconds(serverPid) : undefined;
  const startWall = process.hrtime.bigint();
  const times = precise ? [] : undefined;
  const result = await new Promise((resolve, reject) => {
    const instance = autocannon({ url, connections, pipelining, duration: seconds, headers, ...request }, (err, res) =>
      err ? reject(err) : resolve(res),
    );
    if (times) instance.on('response', (_client, _status, _bytes, ms) => times.push(ms));
  });
  const cpu = process.cpuUsage(startCpu);
  const wallUs = Number(process.hrtime.bigint() - startWall) / 1000;
  const endServerCpu = serverPid ? processCpuSeconds(serverPid) : undefined;
  const serverCpuSeconds =
    startServerCpu === undefined || endServerCpu === undefined ? undefined : endServerCpu - startServerCpu;
  let latency;
  if (times) {
    times.sort((a, b) => a - b);
    latency = { p50: percentile(times, 50), p99: percentile(times, 99), count: times.length };
  }
  return {
    result,
    latency,
    clientCpu: (cpu.user + cpu.system) / wallUs,
    serverCpu: serverCpuSeconds === undefined ? undefined : (serverCpuSeconds * 1e6) / wallUs,
    serverCpuSeconds,
  };
}

function fixed(value, digits) {
  return Number.isFinite(value) ? value.toFixed(digits) : '-';
}

/** autocannon records latencies in whole milliseconds; show decimals only when there are any. */
function latency(value) {
  return Number.isInteger(value) ? String(value) : fixed(value, 2);
}

/** Prints rows of cells under a header; the first `textColumns` are left-aligned. */
function printTable(header, lines, textColumns = 2) {
  const widths = header.map((title, i) => Math.max(title.length, ...lines.map((line) => line[i].length)));
  const format = (cells) =>
    cells.map((cell, i) => (i < textColumns ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  console.log(format(header));
  console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const line of lines) console.log(format(line));
}

module.exports = { tasksetWorks, cpuLayout, processCpuSeconds, percentile, load, fixed, latency, printTable };
