// Reads the log lines every e2e app instance wrote during a run (one file per instance, JSON lines)
// and finds lines that should not exist: an error-level line, or any line carrying a stack, for a
// request the app answered below 500. A 4xx is the client's mistake, not an incident.
const { readdirSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

function levelOf(entry) {
  return typeof entry.level === 'number' ? entry.level : (LEVELS[entry.level] ?? 0);
}

function hasStack(value, depth = 0) {
  if (!value || typeof value !== 'object' || depth > 4) return false;
  if (typeof value.stack === 'string') return true;
  return Object.values(value).some((v) => hasStack(v, depth + 1));
}

/** `{ file, reqId, status, level, msg }` for each offending line of the files in `dir`. */
function scanLogDir(dir) {
  const violations = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.log'))) {
    const statuses = new Map();
    const suspects = [];
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      if (!line.startsWith('{')) continue;
      let entry;
      try {
        entry = JSON.parse(line);
      } catch {
        continue;
      }
      if (typeof entry.reqId !== 'string') continue;
      if (entry.msg === 'request' && typeof entry.status === 'number') {
        const seen = statuses.get(entry.reqId) ?? [];
        seen.push(entry.status);
        statuses.set(entry.reqId, seen);
      } else if (levelOf(entry) >= LEVELS.error || hasStack(entry)) suspects.push(entry);
    }
    for (const entry of suspects) {
      const seen = statuses.get(entry.reqId);
      // Unknown status (no `request` line: the S3 proxy, a client that hung up) or a 5xx: fine.
      if (!seen || seen.some((s) => s >= 500)) continue;
      violations.push({ file, reqId: entry.reqId, status: seen[0], level: entry.level, msg: entry.msg });
    }
  }
  return violations;
}

module.exports = { scanLogDir };
