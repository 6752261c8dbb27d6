// A real OpenID provider (the certified `oidc-provider` package) for the end-to-end tests, run in a
// child process on 127.0.0.1 and steered by its parent over IPC. ESM, as oidc-provider is.
//
// Commands (process.send({ id, cmd, args })): configure { clients, accounts }, accounts { … },
// rotate (a new signing key in front, the old one still published), forge (re-sign the token
// endpoint's ID tokens with changed claims: issuer | audience | expired | foreign-key | null),
// stop / start (close and reopen the listener on the same port).
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { decodeJwt, exportJWK, generateKeyPair, importJWK, SignJWT } from 'jose';
import Provider from 'oidc-provider';

let port = 0;
let keys = [];
let clients = [];
let accounts = {};
let forge = null;
let provider;
const sockets = new Set();

const issuer = () => `http://127.0.0.1:${port}`;

async function newKey() {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: 'RS256', use: 'sig' };
}

const CLAIMS = ['sub', 'email', 'email_verified', 'name', 'preferred_username', 'groups'];

function build() {
  const built = new Provider(issuer(), {
    clients,
    jwks: { keys },
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false }, rpInitiatedLogout: { enabled: true } },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username'],
      groups: ['groups'],
    },
    conformIdTokenClaims: false,
    findAccount: async (_ctx, sub) => ({
      accountId: sub,
      claims: async () => ({ sub, ...(accounts[sub] ?? {}) }),
    }),
    // First-party client: consent is implied, so the flow goes from login straight back to Stowage.
    loadExistingGrant: async (ctx) => {
      const existing = ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (existing) return ctx.oidc.provider.Grant.find(existing);
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope('openid email profile groups');
      grant.addOIDCClaims(CLAIMS);
      await grant.save();
      return grant;
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    cookies: { keys: ['oidc-test-cookie-key'] },
  });
  built.use(async (ctx, next) => {
    await next();
    if (forge && ctx.path === '/token' && ctx.body && typeof ctx.body.id_token === 'string') {
      ctx.body = { ...ctx.body, id_token: await reSign(ctx.body.id_token, forge) };
    }
  });
  return built;
}

/** The same claims with one of them made wrong, signed again with a real key of the provider. */
async function reSign(token, mode) {
  const claims = decodeJwt(token);
  const now = Math.floor(Date.now() / 1000);
  if (mode === 'issuer') claims.iss = 'http://127.0.0.1:1/another-issuer';
  if (mode === 'audience') claims.aud = 'another-client';
  if (mode === 'expired') Object.assign(claims, { iat: now - 7200, exp: now - 3600 });
  let jwk = keys[0];
  if (mode === 'foreign-key') jwk = { ...(await newKey()), kid: keys[0].kid };
  const key = await importJWK(jwk, 'RS256');
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: jwk.kid }).sign(key);
}

function readForm(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => resolve(new URLSearchParams(body)));
    req.on('error', reject);
  });
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction mismatch');
  if (action === 'login' && req.method === 'POST') {
    const form = await readForm(req);
    const accountId = form.get('login');
    if (!accountId) throw new Error('login required');
    await provider.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false });
    return;
  }
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(
    `<!doctype html><title>Sign in</title><p>prompt: ${details.prompt.name}</p>` +
      `<form method="post" action="/interaction/${uid}/login"><input name="login"><button>Sign in</button></form>`,
  );
}

const server = createServer((req, res) => {
  const match = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login))?$/.exec(new URL(req.url, issuer()).pathname);
  if (match) {
    interaction(req, res, match[1], match[2]).catch((err) => {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(String(err.message));
    });
    return;
  }
  provider.callback()(req, res);
});
server.on('connection', (socket) => {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
});

const listen = () => new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server.address().port)));

const commands = {
  async configure(args) {
    clients = args.clients ?? clients;
    accounts = args.accounts ?? accounts;
    provider = build();
  },
  async accounts(args) {
    accounts = { ...accounts, ...args };
  },
  async rotate() {
    keys = [await newKey(), ...keys];
    provider = build();
    return { kid: keys[0].kid };
  },
  async forge(args) {
    forge = args.mode ?? null;
  },
  async stop() {
    await new Promise((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
  },
  async start() {
    await listen();
  },
};

process.on('message', async ({ id, cmd, args }) => {
  try {
    const result = await commands[cmd](args ?? {});
    process.send({ id, ok: true, result });
  } catch (err) {
    process.send({ id, ok: false, error: String(err?.message ?? err) });
  }
});
process.on('disconnect', () => process.exit(0));

keys = [await newKey()];
port = await listen();
provider = build();
process.send({ ready: true, issuer: issuer() });
