'use strict';

/*
 * Express vs Fastify as the NestJS HTTP platform, measured on a guarded route.
 *
 *   node scripts/bench-platform.js          (or: npm run bench:platform)
 *   BENCH_SECONDS=30 npm run bench:platform
 *
 * The same minimal Nest application is built twice, differing only in the adapter:
 *   GET /api/me   global APP_GUARD: cookie `stowage_session` parsed by hand, sha256-hashed,
 *                 looked up in an in-process Map (stand-in for the session cache), user attached
 *                 to the request; the handler returns { id, username, role }.
 *   GET /healthz  marked public: the global guard runs but lets it through without a session.
 *
 * Each server runs in its own child process, pinned to CPU 0 with `taskset -c 0` when available,
 * listening on 127.0.0.1 on a port chosen by the OS. The parent (the autocannon load generator)
 * is moved to another CPU when there is one, so client and server do not compete for a core.
 * Per platform and route: 2 s warm-up, then BENCH_SECONDS (default 10) of measurement with
 * 50 connections and pipelining 1. Servers are stopped when the run ends or is interrupted.
 *
 * Besides requests/s and latency, the table shows the server's CPU time per request (read from
 * /proc): when other work on the host steals the server's core, throughput and latency suffer
 * but CPU per request barely moves, so it is the figure to trust on a busy machine.
 */

const { setTimeout, clearTimeout } = require('node:timers');
const { fixed, latency, load: loadUrl, printTable, tasksetWorks } = require('./lib/bench');

const PUBLIC_KEY = 'bench:public';
const SESSION_COOKIE = 'stowage_session';
const HOST = '127.0.0.1';
const SERVER_CPU = 0;
const CLIENT_CPU = 1;
const CONNECTIONS = 50;
const PIPELINING = 1;
const WARMUP_SECONDS = 2;
const READY_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;
const PLATFORMS = ['express', 'fastify'];
const ROUTES = ['/healthz', '/api/me'];
const BENCH_USER = { id: '7d1c6f2e-4b8a-4f57-9a0e-2f3b5c6d7e81', username: 'bench-admin', role: 'admin' };

function parseCookie(header, name) {
  if (typeof header !== 'string' || header.length === 0) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    try {
      return decodeURIComponent(value);
    } catch {
      return value;
    }
  }
  return undefined;
}

function buildAppModule(sessions) {
  const { createHash } = require('node:crypto');
  const {
    Controller,
    Get,
    Injectable,
    Inject,
    Module,
    Req,
    SetMetadata,
    UnauthorizedException,
  } = require('@nestjs/common');
  const { APP_GUARD, Reflector } = require('@nestjs/core');

  class SessionGuard {
    constructor(reflector) {
      this.reflector = reflector;
    }

    canActivate(context) {
      const isPublic = this.reflector.getAllAndOverride(PUBLIC_KEY, [context.getHandler(), context.getClass()]);
      if (isPublic) return true;
      const request = context.switchToHttp().getRequest();
      const token = parseCookie(request.headers.cookie, SESSION_COOKIE);
      if (!token) throw new UnauthorizedException('Authentication required');
      const user = sessions.get(createHash('sha256').update(token).digest('hex'));
      if (!user) throw new UnauthorizedException('Authentication required');
      request.user = user;
      return true;
    }
  }
  Inject(Reflector)(SessionGuard, undefined, 0);
  Injectable()(SessionGuard);

  class MeController {
    me(request) {
      const { id, username, role } = request.user;
      return { id, username, role };
    }
  }
  Req()(MeController.prototype, 'me', 0);
  Get('me')(MeController.prototype, 'me', Object.getOwnPropertyDescriptor(MeController.prototype, 'me'));
  Controller('api')(MeController);

  class HealthController {
    healthz() {
      return { status: 'ok' };
    }
  }
  const healthz = Object.getOwnPropertyDescriptor(HealthController.prototype, 'healthz');
  SetMetadata(PUBLIC_KEY, true)(HealthController.prototype, 'healthz', healthz);
  Get('healthz')(HealthController.prototype, 'healthz', healthz);
  Controller()(HealthController);

  class BenchModule {}
  Module({
    controllers: [MeController, HealthController],
    providers: [{ provide: APP_GUARD, useClass: SessionGuard }],
  })(BenchModule);
  return BenchModule;
}

async function serve(platform) {
  require('reflect-metadata');
  const { createHash } = require('node:crypto');
  const { NestFactory } = require('@nestjs/core');

  const token = process.env.BENCH_SESSION_TOKEN;
  if (!token) throw new Error('BENCH_SESSION_TOKEN is not set');
  const sessions = new Map([[createHash('sha256').update(token).digest('hex'), BENCH_USER]]);

  let adapter;
  if (platform === 'express') {
    const { ExpressAdapter } = require('@nestjs/platform-express');
    adapter = new ExpressAdapter();
  } else if (platform === 'fastify') {
    const { FastifyAdapter } = require('@nestjs/platform-fastify');
    adapter = new FastifyAdapter();
  } else {
    throw new Error(`unknown platform ${platform}`);
  }

  const app = await NestFactory.create(buildAppModule(sessions), adapter, { logger: false, abortOnError: false });
  await app.listen(0, HOST);
  const { port } = app.getHttpServer().address();

  let closing = false;
  const shutdown = () => {
    if (closing) return;
    closing = true;
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  // The parent holds our stdin open; when it goes away, so do we.
  process.stdin.on('end', shutdown);
  process.stdin.on('close', shutdown);
  process.stdin.resume();

  process.stdout.write(`READY ${port}\n`);
}

// ---------------------------------------------------------------------------------------------
// Parent: start servers, check them, drive load, print the table.
// ---------------------------------------------------------------------------------------------

function startServer(platform, pin, token) {
  const { spawn } = require('node:child_process');
  const nodeArgs = [process.argv[1], '--serve', platform];
  const command = pin ? 'taskset' : process.execPath;
  const args = pin ? ['-c', String(SERVER_CPU), process.execPath, ...nodeArgs] : nodeArgs;
  const child = spawn(command, args, {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, BENCH_SESSION_TOKEN: token, NODE_ENV: 'production' },
  });

  return new Promise((resolve, reject) => {
    let buffered = '';
    let settled = false;
    const fail = (error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    const timer = setTimeout(
      () => fail(new Error(`${platform} server not ready after ${READY_TIMEOUT_MS} ms`)),
      READY_TIMEOUT_MS,
    );
    child.on('error', fail);
    child.on('exit', (code, signal) => fail(new Error(`${platform} server exited early (${signal ?? code})`)));
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      buffered += chunk;
      const match = /^READY (\d+)$/m.exec(buffered);
      if (!match || settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ platform, child, port: Number(match[1]) });
    });
  });
}

function stopServer(server) {
  const { child } = server;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
    child.stdin.end();
  });
}

function request(port, path, headers) {
  const http = require('node:http');
  return new Promise((resolve, reject) => {
    const req = http.get({ host: HOST, port, path, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'] ?? '', body }));
    });
    req.on('error', reject);
  });
}

async function checkServer(server, cookie) {
  const expect = (label, ok, response) => {
    if (!ok) throw new Error(`${server.platform}: ${label} (got ${response.status} ${response.body})`);
  };
  const health = await request(server.port, '/healthz', {});
  expect('GET /healthz should be 200 without a session', health.status === 200, health);

  const me = await request(server.port, '/api/me', { cookie: `theme=dark; ${cookie}; lang=en` });
  let body;
  try {
    body = JSON.parse(me.body);
  } catch {
    body = undefined;
  }
  const sameUser =
    body &&
    Object.keys(body).length === 3 &&
    body.id === BENCH_USER.id &&
    body.username === BENCH_USER.username &&
    body.role === BENCH_USER.role;
  expect('GET /api/me with a session should return the user as JSON', me.status === 200 && sameUser, me);
  expect('GET /api/me should be application/json', me.type.startsWith('application/json'), me);

  const anonymous = await request(server.port, '/api/me', {});
  expect('GET /api/me without a cookie should be 401', anonymous.status === 401, anonymous);
  const forged = await request(server.port, '/api/me', { cookie: `${SESSION_COOKIE}=not-a-session` });
  expect('GET /api/me with an unknown session should be 401', forged.status === 401, forged);
}

function load(server, path, cookie, seconds) {
  return loadUrl({
    url: `http://${HOST}:${server.port}${path}`,
    connections: CONNECTIONS,
    pipelining: PIPELINING,
    seconds,
    headers: path === '/api/me' ? { cookie } : {},
    serverPid: server.child.pid,
  });
}

function printRows(rows) {
  const header = ['platform', 'route', 'requests/s', 'p50 ms', 'p99 ms', 'errors/non-2xx', 'server CPU µs/req'];
  const lines = rows.map((row) => [
    row.platform,
    `GET ${row.route}`,
    fixed(row.rps, 0),
    latency(row.p50),
    latency(row.p99),
    `${row.errors}/${row.non2xx}`,
    fixed(row.cpuUs, 0),
  ]);
  printTable(header, lines);
}

async function main() {
  const os = require('node:os');
  const { randomBytes } = require('node:crypto');
  require('autocannon'); // fail fast if the devDependency is missing

  const seconds = Number(process.env.BENCH_SECONDS ?? 10);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`BENCH_SECONDS must be a positive number`);
  const duration = Math.max(1, Math.round(seconds));

  const cpuCount = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  const pin = tasksetWorks(['-c', String(SERVER_CPU), 'true']);
  let clientNote;
  if (!pin) {
    console.log('note: taskset is not available (or CPU 0 is not allowed); servers run without CPU pinning.');
  } else if (cpuCount >= 2 && tasksetWorks(['-a', '-p', '-c', String(CLIENT_CPU), String(process.pid)])) {
    clientNote = `autocannon pinned to CPU ${CLIENT_CPU}`;
  } else {
    clientNote = `autocannon not pinned (CPU ${CLIENT_CPU} unavailable): client and server may share a core`;
  }

  const version = (name) => require(`${name}/package.json`).version;
  console.log(
    `node ${process.version}, @nestjs/core ${version('@nestjs/core')}, ` +
      `express ${version('express')} (@nestjs/platform-express ${version('@nestjs/platform-express')}), ` +
      `fastify ${version('fastify')} (@nestjs/platform-fastify ${version('@nestjs/platform-fastify')})`,
  );
  console.log(`${os.cpus()[0]?.model ?? 'unknown CPU'}, ${cpuCount} CPU(s) available`);
  console.log(
    `servers: ${pin ? `taskset -c ${SERVER_CPU}` : 'unpinned'}${clientNote ? `; ${clientNote}` : ''}; ` +
      `${CONNECTIONS} connections, pipelining ${PIPELINING}, ${WARMUP_SECONDS} s warm-up + ${duration} s per route`,
  );
  console.log('');

  const token = randomBytes(32).toString('base64url');
  const cookie = `${SESSION_COOKIE}=${token}`;
  const running = new Set();
  const interrupt = (signal) => {
    console.error(`\n${signal}: stopping servers`);
    Promise.all([...running].map(stopServer)).finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);

  const rows = [];
  let busiestClient = 0;
  const starved = [];
  for (const platform of PLATFORMS) {
    const server = await startServer(platform, pin, token);
    running.add(server);
    try {
      await checkServer(server, cookie);
      for (const route of ROUTES) {
        process.stdout.write(
          `${platform.padEnd(8)} GET ${route.padEnd(9)} warm-up ${WARMUP_SECONDS} s, measure ${duration} s ... `,
        );
        await load(server, route, cookie, WARMUP_SECONDS);
        const { result, clientCpu, serverCpu, serverCpuSeconds } = await load(server, route, cookie, duration);
        busiestClient = Math.max(busiestClient, clientCpu);
        if (serverCpu !== undefined && serverCpu < 0.9)
          starved.push(`${platform} GET ${route} ${Math.round(serverCpu * 100)}%`);
        const row = {
          platform,
          route,
          rps: result.requests.average,
          p50: result.latency.p50,
          p99: result.latency.p99,
          errors: result.errors + result.timeouts,
          non2xx: result.non2xx,
          cpuUs:
            serverCpuSeconds === undefined || result.requests.total === 0
              ? undefined
              : (serverCpuSeconds * 1e6) / result.requests.total,
        };
        rows.push(row);
        const percent = (share) => (share === undefined ? '-' : `${Math.round(share * 100)}%`);
        console.log(`${fixed(row.rps, 0)} req/s (CPU: server ${percent(serverCpu)}, autocannon ${percent(clientCpu)})`);
      }
    } finally {
      await stopServer(server);
      running.delete(server);
    }
  }

  console.log('');
  printRows(rows);
  console.log('');
  for (const route of ROUTES) {
    const express = rows.find((row) => row.platform === 'express' && row.route === route);
    const fastify = rows.find((row) => row.platform === 'fastify' && row.route === route);
    console.log(
      `Fastify/Express GET ${route.padEnd(9)} requests/s x${fixed(fastify.rps / express.rps, 2)}, ` +
        `p50 x${fixed(fastify.p50 / express.p50, 2)}, p99 x${fixed(fastify.p99 / express.p99, 2)}, ` +
        `server CPU per request x${fixed(fastify.cpuUs / express.cpuUs, 2)}`,
    );
  }
  if (busiestClient > 0.9) {
    console.log(
      `note: the load generator used up to ${Math.round(busiestClient * 100)}% of a CPU; ` +
        'the faster server may be client-bound and its lead understated.',
    );
  }
  if (starved.length > 0) {
    console.log(
      `note: a saturated server should use ~100% of its core; measured ${starved.join(', ')}. ` +
        'Other load on the host (or a client-bound run) skewed requests/s and latency; ' +
        'server CPU µs/req is the least affected figure. Rerun on a quiet machine.',
    );
  }
  process.removeListener('SIGINT', interrupt);
  process.removeListener('SIGTERM', interrupt);
}

if (process.argv[2] === '--serve') {
  serve(process.argv[3]).catch((error) => {
    console.error(error);
    process.exit(1);
  });
} else {
  main().then(
    () => process.exit(0),
    (error) => {
      console.error(`bench-platform: ${error.message}`);
      process.exit(1);
    },
  );
}
