// A real OpenID Connect provider for OCX's sso tests: panva's oidc-provider with two
// static clients and a few accounts. Started by tests/servers/oidc.py:
//   node op.mjs PORT REDIRECT_URI
// Logins go through GET /interaction/:uid (a password form, consent granted at once)
// and POST /interaction/:uid/login; devInteractions are off.
import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import Provider from 'oidc-provider';

const port = Number(process.argv[2]);
const redirectUri = process.argv[3];
const issuer = `http://127.0.0.1:${port}`;

const accounts = {
  alice: { password: 'alice-password', email: 'alice@a.example.org', email_verified: true,
           name: 'Alice Anders', eduperson_scoped_affiliation: ['faculty@a.example.org'],
           groups: ['physics'] },
  bob: { password: 'bob-password', email: 'bob@b.example.org', email_verified: true,
         name: 'Bob Berg', eduperson_scoped_affiliation: ['student@b.example.org'], groups: [] },
  carol: { password: 'carol-password', email: 'carol@a.example.org', email_verified: false,
           name: 'Carol Unverified', eduperson_scoped_affiliation: [], groups: [] },
};

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-key', use: 'sig',
                     alg: 'RS256' };

const provider = new Provider(issuer, {
  clients: [
    { client_id: 'ocx', client_secret: 'ocx-client-secret', redirect_uris: [redirectUri],
      grant_types: ['authorization_code', 'urn:ietf:params:oauth:grant-type:device_code'],
      response_types: ['code'] },
    { client_id: 'other-app', client_secret: 'other-app-secret', redirect_uris: [redirectUri],
      grant_types: ['authorization_code'], response_types: ['code'] },
  ],
  jwks: { keys: [signingKey] },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'],
            affiliation: ['eduperson_scoped_affiliation'], groups: ['groups'] },
  scopes: ['openid', 'email', 'profile', 'affiliation', 'groups', 'offline_access'],
  conformIdTokenClaims: false,  // put the claims in the ID token: OCX reads them there
  features: { devInteractions: { enabled: false }, deviceFlow: { enabled: true } },
  pkce: { required: () => true },
  ttl: { IdToken: 300, AccessToken: 300, AuthorizationCode: 60, DeviceCode: 300,
         Interaction: 600, Session: 600, Grant: 600 },
  async findAccount(ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        const { password, ...claims } = account;
        return { sub: id, ...claims };
      },
    };
  },
});

function readForm(req) {
  return new Promise((resolve) => {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => resolve(new URLSearchParams(body)));
  });
}

function loginPage(res, uid, message) {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(`<html><body><p>${message}</p><form method="post" action="/interaction/${uid}/login">
<input name="login"><input name="password" type="password"><button>Sign in</button>
</form></body></html>`);
}

async function consent(req, res, details) {
  const grant = details.grantId ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: details.session.accountId,
                           clientId: details.params.client_id });
  const missing = details.prompt.details;
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { consent: { grantId } },
                                     { mergeWithLastSubmission: true });
}

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  if (req.method === 'POST' && req.url.endsWith('/login')) {
    const form = await readForm(req);
    const account = accounts[form.get('login')];
    if (!account || account.password !== form.get('password')) {
      return loginPage(res, details.uid, 'Wrong login or password.');
    }
    return provider.interactionFinished(req, res, { login: { accountId: form.get('login') } },
                                        { mergeWithLastSubmission: false });
  }
  if (details.prompt.name === 'consent') return consent(req, res, details);
  return loginPage(res, details.uid, 'Sign in to the test IdP.');
}

const callback = provider.callback();
http.createServer((req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((err) => {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(String(err));
    });
    return;
  }
  callback(req, res);
}).listen(port, '127.0.0.1', () => console.log(`oidc-provider listening on ${issuer}`));
