#!/usr/bin/env node
// A loopback OpenID Connect provider configured like ProConnect, for Coord's tests and demo.
//
// It is panva's certified `oidc-provider` (installed from npm, see package.json) with ProConnect's
// shape: issuer path /api/v2, confidential client authenticated with client_secret_post, ID token
// RS256, userinfo returned as a JWT signed ES256 (so each can be tampered with separately), the
// ProConnect scopes and claims, RP-initiated logout, code 30 s and access token 60 s, state and
// nonce of at least 32 characters, and any query parameter of /authorize outside ProConnect's list
// refused with a 400. Its own French pages ask for an e-mail address and accept any.
//
//   node server.mjs --port 0 --client-id ID --client-secret SECRET \
//     --redirect-uri http://127.0.0.1:8000/connexion/proconnect/retour \
//     --post-logout-redirect-uri http://127.0.0.1:8000/connexion [--accounts accounts.json] [--control]
//   node server.mjs --config provider.json          (the same keys, snake_case, in a JSON file)
//
// Prints `ready http://127.0.0.1:PORT/api/v2` once listening; exits on SIGTERM or SIGINT (and, with
// --exit-with-stdin, when its standard input closes, i.e. when the process that started it is gone).
// With --control (tests only), POST /__control__ with a JSON body changes its behaviour:
//   {"code_ttl": 1}              authorization codes live 1 s (an expired code)
//   {"swap_key": "id_token"}     the published JWKS carries another RSA key under the ID token's kid
//   {"swap_key": "userinfo"}     the same for the userinfo key (EC P-256)
//   {"withhold_key": "id_token"} the published JWKS leaves that key out (as before a key rotation)
//   {"reset": true}              back to the start configuration

import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { parseArgs, promisify } from 'node:util';

import Provider from 'oidc-provider';

const MOUNT = '/api/v2';
const SCOPES = ['openid', 'given_name', 'usual_name', 'email', 'uid', 'siret', 'idp_id', 'phone'];
// The query parameters ProConnect's /authorize accepts; anything else is a 400 there (Y000400).
const AUTHORIZE_PARAMS = new Set([
  'response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'nonce', 'claims', 'prompt',
  'acr_values', 'idp_hint', 'login_hint', 'response_mode', 'code_challenge', 'code_challenge_method',
]);
const MIN_RANDOM_LENGTH = 32; // state and nonce, as ProConnect requires
const CODE_TTL = 30;
const ACCESS_TOKEN_TTL = 60;
const SIRET = '13002526500013';
const IDP_ID = 'fi-test-boucle-locale'; // one fixed identity provider behind this test federation

// ----- command line -----------------------------------------------------------------------------

function options() {
  const { values } = parseArgs({
    options: {
      config: { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '0' },
      'client-id': { type: 'string' },
      'client-secret': { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true },
      'post-logout-redirect-uri': { type: 'string', multiple: true },
      accounts: { type: 'string' },
      control: { type: 'boolean', default: false },
      'exit-with-stdin': { type: 'boolean', default: false },
    },
  });
  const file = values.config ? JSON.parse(fs.readFileSync(values.config, 'utf8')) : {};
  const opts = {
    host: file.host ?? values.host,
    port: Number(file.port ?? values.port),
    clientId: values['client-id'] ?? file.client_id,
    clientSecret: values['client-secret'] ?? file.client_secret,
    redirectUris: values['redirect-uri'] ?? file.redirect_uris ?? [],
    postLogoutRedirectUris: values['post-logout-redirect-uri'] ?? file.post_logout_redirect_uris ?? [],
    accounts: values.accounts ?? file.accounts,
    control: values.control || file.control === true,
    exitWithStdin: values['exit-with-stdin'],
  };
  if (!opts.clientId || !opts.clientSecret || opts.redirectUris.length === 0) {
    fail('client id, client secret and at least one redirect URI are required (--client-id, --client-secret, --redirect-uri or --config)');
  }
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) fail(`invalid port: ${opts.port}`);
  return opts;
}

function fail(message) {
  process.stderr.write(`oidc-provider: ${message}\n`);
  process.exit(2);
}

// ----- identities -------------------------------------------------------------------------------

// Names known in advance (the demo's agents), by lower-cased e-mail: [{email, given_name, usual_name, phone}].
function loadAccounts(path) {
  const known = new Map();
  if (!path) return known;
  const raw = JSON.parse(fs.readFileSync(path, 'utf8'));
  for (const entry of Array.isArray(raw) ? raw : raw.accounts ?? []) {
    if (entry && typeof entry.email === 'string') known.set(entry.email.trim().toLowerCase(), entry);
  }
  return known;
}

const capitalise = (word) => word.charAt(0).toUpperCase() + word.slice(1).toLowerCase();

function identityFor(email, known) {
  const key = email.toLowerCase();
  // ProConnect's sub is per (service, identity provider): a hash of both makes it differ per IdP.
  const sub = crypto.createHash('sha256').update(`${IDP_ID}\n${key}`).digest('hex');
  const entry = known.get(key) ?? {};
  const parts = key.split('@')[0].split(/[._-]+/).filter(Boolean).map(capitalise);
  return {
    sub,
    claims: {
      email, // exactly as typed: the service must lower-case it
      given_name: entry.given_name ?? parts[0] ?? 'Agent',
      usual_name: entry.usual_name ?? (parts.slice(1).join(' ') || parts[0] || 'Public'),
      uid: `uid-${sub.slice(0, 16)}`,
      siret: entry.siret ?? SIRET,
      idp_id: IDP_ID,
      phone_number: entry.phone ?? '01 23 45 67 89',
    },
  };
}

// ----- keys -------------------------------------------------------------------------------------

// Generated in libuv's pool: the synchronous call was seen to hang now and then on Node 20 once
// oidc-provider is loaded (main thread stuck on a futex in the first RSA generation).
const generateKeyPair = promisify(crypto.generateKeyPair);

async function signingKey(kind) {
  const { privateKey } = kind === 'RSA'
    ? await generateKeyPair('rsa', { modulusLength: 2048 })
    : await generateKeyPair('ec', { namedCurve: 'P-256' });
  return privateKey.export({ format: 'jwk' });
}

// The ID token's and the userinfo's private JWKs, fresh at each start, with their kid, alg and use.
async function signingKeys() {
  const kinds = { id_token: ['RSA', 'RS256', 'rs256'], userinfo: ['EC', 'ES256', 'es256'] };
  const keys = {};
  for (const [name, [kind, alg, prefix]] of Object.entries(kinds)) {
    const jwk = await signingKey(kind);
    keys[name] = { ...jwk, kid: `${prefix}-${crypto.randomBytes(6).toString('hex')}`, alg, use: 'sig' };
  }
  return keys;
}

function publicPart(jwk) {
  const { kty, n, e, crv, x, y } = jwk;
  return Object.fromEntries(Object.entries({ kty, n, e, crv, x, y }).filter(([, v]) => v !== undefined));
}

// ----- pages ------------------------------------------------------------------------------------

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function layout(title, body) {
  return `<!DOCTYPE html>
<html lang="fr">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)} — ProConnect (fournisseur de test)</title></head>
<body>
<header><p><strong>ProConnect</strong> — fournisseur d'identité de test sur la boucle locale</p></header>
<main>
<h1>${escape(title)}</h1>
${body}
</main>
</body>
</html>`;
}

function loginPage(uid, error = '', value = '') {
  const alert = error ? `<p role="alert">${escape(error)}</p>` : '';
  return layout('Connexion', `${alert}
<form method="post" action="${MOUNT}/interaction/${escape(uid)}/login">
  <p><label for="email">Adresse électronique</label><br>
  <input id="email" name="email" type="email" autocomplete="email" required autofocus value="${escape(value)}"></p>
  <p><button type="submit">Se connecter</button></p>
</form>
<p>Fournisseur de test : toute adresse est acceptée, sans mot de passe.</p>`);
}

// ----- the provider -----------------------------------------------------------------------------

function configuration(opts, state) {
  return {
    clients: [{
      client_id: opts.clientId,
      client_secret: opts.clientSecret,
      redirect_uris: opts.redirectUris,
      post_logout_redirect_uris: opts.postLogoutRedirectUris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      // ProConnect's token endpoint takes client_id and client_secret in the form body.
      token_endpoint_auth_method: 'client_secret_post',
      id_token_signed_response_alg: 'RS256',
      userinfo_signed_response_alg: 'ES256',
    }],
    jwks: { keys: [state.keys.id_token, state.keys.userinfo] },
    cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
    scopes: SCOPES,
    claims: {
      openid: ['sub'],
      given_name: ['given_name'],
      usual_name: ['usual_name'],
      email: ['email'],
      uid: ['uid'],
      siret: ['siret'],
      idp_id: ['idp_id'],
      phone: ['phone_number'],
      acr: null,
      amr: null,
      auth_time: null,
      sid: null,
    },
    responseTypes: ['code'],
    clientAuthMethods: ['client_secret_post'],
    pkce: { required: () => false },
    clientBasedCORS: () => false,
    issueRefreshToken: () => false,
    routes: {
      authorization: '/authorize',
      token: '/token',
      userinfo: '/userinfo',
      end_session: '/session/end',
      jwks: '/jwks',
    },
    ttl: {
      AuthorizationCode: () => state.codeTtl,
      AccessToken: ACCESS_TOKEN_TTL,
      IdToken: 3600,
      Interaction: 600,
      Session: 12 * 3600,
      Grant: 12 * 3600,
    },
    interactions: { url: (ctx, interaction) => `${MOUNT}/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      pushedAuthorizationRequests: { enabled: false },
      jwtUserinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          ctx.type = 'html';
          ctx.body = layout('Déconnexion', `${form}
<p>Voulez-vous vous déconnecter de ProConnect ?</p>
<p><button type="submit" form="op.logoutForm" name="logout" value="yes">Se déconnecter</button>
<button type="submit" form="op.logoutForm">Rester connecté</button></p>`);
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.type = 'html';
          ctx.body = layout('Vous êtes déconnecté', '<p>Votre session ProConnect est terminée.</p>');
        },
      },
    },
    findAccount: async (ctx, sub) => {
      const claims = state.identities.get(sub);
      return claims ? { accountId: sub, claims: async () => ({ sub, ...claims }) } : undefined;
    },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = layout('Une erreur est survenue', Object.entries(out)
        .map(([key, value]) => `<p><strong>${escape(key)}</strong> : ${escape(value)}</p>`).join('\n'));
    },
  };
}

// ----- HTTP -------------------------------------------------------------------------------------

function send(res, status, type, body) {
  res.writeHead(status, { 'Content-Type': `${type}; charset=utf-8`, 'Cache-Control': 'no-store' });
  res.end(body);
}

async function readBody(req, limit = 65536) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > limit) throw Object.assign(new Error('body too large'), { status: 413 });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

// ProConnect's checks before the authorization endpoint proper; returns an error message or "".
function authorizeRefusal(req, url) {
  if (req.method !== 'GET') return 'la demande d\'autorisation se fait en GET';
  for (const key of url.searchParams.keys()) {
    if (!AUTHORIZE_PARAMS.has(key)) return `paramètre non autorisé : ${key}`;
  }
  for (const key of ['state', 'nonce']) {
    const value = url.searchParams.get(key) ?? '';
    if (value.length < MIN_RANDOM_LENGTH) return `${key} doit compter au moins ${MIN_RANDOM_LENGTH} caractères`;
  }
  return '';
}

async function interaction(provider, state, known, req, res, rest) {
  const [uid, action] = rest.split('/');
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return send(res, 400, 'text/html', layout('Requête invalide', '<p>Interaction inconnue.</p>'));
  const { prompt, params, session } = details;
  if (prompt.name === 'login') {
    if (req.method === 'GET' && !action) return send(res, 200, 'text/html', loginPage(uid));
    if (req.method === 'POST' && action === 'login') {
      const email = (new URLSearchParams(await readBody(req)).get('email') ?? '').trim();
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) {
        return send(res, 400, 'text/html', loginPage(uid, 'Saisissez une adresse électronique valide.', email));
      }
      const identity = identityFor(email, known);
      state.identities.set(identity.sub, identity.claims);
      return provider.interactionFinished(req, res, { login: { accountId: identity.sub } }, { mergeWithLastSubmission: false });
    }
  }
  if (prompt.name === 'consent') {
    // Consent is granted on the agent's behalf, as ProConnect does for a registered service.
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
    if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(prompt.details.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }
  return send(res, 400, 'text/html', layout('Requête invalide', '<p>Étape inattendue.</p>'));
}

async function controlRequest(state, req, res) {
  if (req.method !== 'POST') return send(res, 405, 'application/json', '{"error":"POST only"}');
  const body = JSON.parse((await readBody(req)) || '{}');
  if (body.reset) {
    state.codeTtl = CODE_TTL;
    state.swapped.clear();
    state.withheld.clear();
  }
  if (body.code_ttl !== undefined) {
    if (!Number.isInteger(body.code_ttl) || body.code_ttl < 1) return send(res, 400, 'application/json', '{"error":"code_ttl: integer >= 1"}');
    state.codeTtl = body.code_ttl;
  }
  if (body.swap_key !== undefined) {
    if (!(body.swap_key in state.keys)) return send(res, 400, 'application/json', '{"error":"swap_key: id_token | userinfo"}');
    state.swapped.add(body.swap_key);
  }
  if (body.withhold_key !== undefined) {
    if (!(body.withhold_key in state.keys)) return send(res, 400, 'application/json', '{"error":"withhold_key: id_token | userinfo"}');
    state.withheld.add(body.withhold_key);
  }
  const summary = { code_ttl: state.codeTtl, swapped: [...state.swapped], withheld: [...state.withheld] };
  return send(res, 200, 'application/json', JSON.stringify(summary));
}

// The JWKS as published: another key of the same type under the same kid for each swapped one,
// without the withheld ones.
function publishedJwks(state) {
  return {
    keys: Object.entries(state.keys).filter(([name]) => !state.withheld.has(name)).map(([name, jwk]) => {
      const { kid, alg, use } = jwk;
      const source = state.swapped.has(name) ? state.impostors[name] : jwk;
      return { ...publicPart(source), kid, alg, use };
    }),
  };
}

async function main() {
  const opts = options();
  const known = loadAccounts(opts.accounts);
  const keys = await signingKeys();
  // Only the control endpoint publishes these, in place of the real ones (same kid).
  const impostors = opts.control ? { id_token: await signingKey('RSA'), userinfo: await signingKey('EC') } : {};
  const state = {
    keys,
    impostors,
    codeTtl: CODE_TTL,
    swapped: new Set(),
    withheld: new Set(),
    identities: new Map(),
  };

  let provider;
  let callback;
  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url, `http://${req.headers.host ?? opts.host}`);
      if (url.pathname === '/__control__' && opts.control) return await controlRequest(state, req, res);
      if (url.pathname !== MOUNT && !url.pathname.startsWith(`${MOUNT}/`)) {
        return send(res, 404, 'text/html', layout('Page introuvable', '<p>Cette adresse n\'existe pas.</p>'));
      }
      const rest = url.pathname.slice(MOUNT.length);
      if (rest.startsWith('/interaction/')) {
        return await interaction(provider, state, known, req, res, rest.slice('/interaction/'.length));
      }
      if (rest === '/authorize') {
        const refusal = authorizeRefusal(req, url);
        if (refusal) {
          return send(res, 400, 'text/html', layout('Requête invalide', `<p>Y000400 : Bad Request Exception — ${escape(refusal)}.</p>`));
        }
      }
      if (rest === '/jwks' && (state.swapped.size || state.withheld.size)) {
        return send(res, 200, 'application/jwk-set+json', JSON.stringify(publishedJwks(state)));
      }
      // oidc-provider builds its URLs from the part of originalUrl in front of the URL it routes.
      req.originalUrl = req.url;
      req.url = req.url.slice(MOUNT.length) || '/';
      return await callback(req, res);
    } catch (error) {
      if (error?.name === 'SessionNotFound' || error?.status === 400) {
        return send(res, 400, 'text/html', layout('Requête invalide', `<p>${escape(error.message)}</p>`));
      }
      process.stderr.write(`oidc-provider: ${error?.stack ?? error}\n`);
      if (!res.headersSent) send(res, error?.status ?? 500, 'text/html', layout('Erreur', '<p>Erreur interne du fournisseur.</p>'));
    }
  });

  server.listen(opts.port, opts.host, () => {
    const { port } = server.address();
    const issuer = `http://${opts.host}:${port}${MOUNT}`;
    provider = new Provider(issuer, configuration(opts, state));
    provider.on('server_error', (ctx, error) => process.stderr.write(`oidc-provider: ${error.stack}\n`));
    callback = provider.callback();
    process.stdout.write(`ready ${issuer}\n`);
  });

  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (opts.exitWithStdin) {
    // The launcher holds our stdin open: when it dies, even by SIGKILL, the pipe closes and we stop.
    process.stdin.on('end', stop);
    process.stdin.on('error', stop);
    process.stdin.resume();
  }
}

main().catch((error) => fail(error?.stack ?? String(error)));
