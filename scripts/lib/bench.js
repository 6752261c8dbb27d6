'use strict';

// Shared pieces of the benchmark scripts: CPU pinning, load generation, and the table.

const { spawnSync } = require('node:child_process');
const { readFileSync } = require('node:fs');

const CLOCK_TICKS = 100; // USER_HZ, 100 on Linux on every mainstream architecture

/** True when `taskset` exists and accepts these arguments. */
function tasksetWorks(args) {
  const result = spawnSync('taskset', args, { stdio: 'ignore' });
  return !result.error && result.status === 0;
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

module.exports = { tasksetWorks, processCpuSeconds, percentile, load, fixed, latency, printTable };
