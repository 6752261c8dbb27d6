'use strict';

// Large transfers in benchmarks: bodies generated as they are sent, responses hashed as they
// arrive (neither is ever held in memory), and the server's resident memory meanwhile.

const { createCipheriv, createHash } = require('node:crypto');
const { readFileSync } = require('node:fs');
const { Readable, Writable } = require('node:stream');
const { pipeline } = require('node:stream/promises');
const { processCpuSeconds } = require('./bench');

const CHUNK = 1024 * 1024;

/**
 * `size` pseudo-random bytes (an AES-CTR keystream of the 16-byte `seed`), made a chunk at a
 * time and hashed as they go; the same seed gives the same bytes.
 */
function generatedBody(size, seed) {
  const cipher = createCipheriv('aes-128-ctr', seed, Buffer.alloc(16));
  const zeros = Buffer.alloc(CHUNK);
  const hash = createHash('sha256');
  let left = size;
  const body = new Readable({
    highWaterMark: CHUNK,
    read() {
      if (left === 0) return void this.push(null);
      const piece = cipher.update(left >= CHUNK ? zeros : zeros.subarray(0, left));
      left -= piece.length;
      hash.update(piece);
      this.push(piece);
    },
  });
  return { body, sha256: () => hash.digest('hex') };
}

/** Consumes a stream, keeping only its SHA-256 and length. */
async function digest(stream) {
  const hash = createHash('sha256');
  let size = 0;
  await pipeline(
    stream,
    new Writable({
      write(chunk, _enc, done) {
        hash.update(chunk);
        size += chunk.length;
        done();
      },
    }),
  );
  return { sha256: hash.digest('hex'), size };
}

/** The SHA-256 of `generatedBody(size, seed)`, computed without keeping the bytes. */
async function generatedSha256(size, seed) {
  return (await digest(generatedBody(size, seed).body)).sha256;
}

function statusField(pid, field) {
  const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : NaN;
}

/** Resident memory of `pid` in bytes (VmRSS). */
function rssOf(pid) {
  return statusField(pid, 'VmRSS');
}

/** The most resident memory `pid` has had since it started (VmHWM), in bytes. */
function peakRssOf(pid) {
  return statusField(pid, 'VmHWM');
}

/** Peak VmRSS growth of `pid` (sampled every 50 ms) and the CPU time it used while `fn` runs. */
async function watchRss(pid, fn) {
  const before = rssOf(pid);
  const cpuBefore = processCpuSeconds(pid);
  let peak = before;
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssOf(pid));
    } catch {
      // process gone; the transfer fails on its own
    }
  }, 50);
  const started = process.hrtime.bigint();
  try {
    const value = await fn();
    peak = Math.max(peak, rssOf(pid));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { value, seconds, growth: peak - before, before, peak, cpuSeconds: processCpuSeconds(pid) - cpuBefore };
  } finally {
    clearInterval(timer);
  }
}

module.exports = { generatedBody, generatedSha256, digest, rssOf, peakRssOf, watchRss };
