// A local stand-in for AWS STS (AssumeRole) and the IAM Identity Center
// portal (GetRoleCredentials), for tests only (tests/e2e/aws_profiles.sh).
//   POST /  Action=AssumeRole  must be SigV4-signed (service sts) by a key of
//           FAKE_STS_CALLERS ("AKID:secret,AKID2:secret2"); the signature is
//           recomputed with the independent `aws4` signer. Answers the role
//           credentials FAKE_ROLE_KEY / FAKE_ROLE_SECRET / FAKE_ROLE_TOKEN
//           (valid one hour) for any RoleArn in FAKE_STS_ROLES (comma list),
//           else AccessDenied.
//   GET /federation/credentials?account_id=&role_name=  with header
//           x-amz-sso_bearer_token = FAKE_SSO_TOKEN: the same role credentials.
//   GET /__requests  what was received (action, role, signing key, token), unsigned
// Prints "listening <port>" once ready.
import http from 'node:http';
import aws4 from 'aws4';

const callers = Object.fromEntries((process.env.FAKE_STS_CALLERS || '').split(',').filter(Boolean)
  .map((kv) => [kv.slice(0, kv.indexOf(':')), kv.slice(kv.indexOf(':') + 1)]));
const roles = (process.env.FAKE_STS_ROLES || '').split(',').filter(Boolean);
const role = { key: process.env.FAKE_ROLE_KEY, secret: process.env.FAKE_ROLE_SECRET, token: process.env.FAKE_ROLE_TOKEN };
const received = [];

function stsError(res, status, code, message) {
  res.writeHead(status, { 'content-type': 'text/xml' });
  res.end(`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>1</RequestId></ErrorResponse>`);
}

function assumeRole(req, body, res) {
  const form = new URLSearchParams(body);
  const auth = req.headers.authorization || '';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/sts\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth);
  const entry = { action: form.get('Action'), role: form.get('RoleArn'), session: form.get('RoleSessionName'),
    externalId: form.get('ExternalId'), key: m ? m[1] : null, region: m ? m[3] : null,
    token: req.headers['x-amz-security-token'] || null };
  received.push(entry);
  if (!m) return stsError(res, 403, 'MissingAuthenticationToken', 'Request is missing Authentication Token');
  const [, key, , region, signedHeaders] = m;
  if (!(key in callers)) return stsError(res, 403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
  const signed = signedHeaders.split(';');
  const headers = {};
  for (const h of signed) headers[h] = req.headers[h];
  const ignore = Object.create(null);
  if (!signed.includes('content-length')) ignore['content-length'] = true;
  const creds = { accessKeyId: key, secretAccessKey: callers[key] };
  if (req.headers['x-amz-security-token']) creds.sessionToken = req.headers['x-amz-security-token'];
  const expected = aws4.sign({ host: req.headers.host, method: req.method, path: req.url, headers, body,
    service: 'sts', region, extraHeadersToIgnore: ignore }, creds).headers.Authorization;
  if (expected !== auth) return stsError(res, 403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
  if (entry.action !== 'AssumeRole' || form.get('Version') !== '2011-06-15') return stsError(res, 400, 'InvalidAction', 'unexpected action');
  if (!roles.includes(entry.role)) return stsError(res, 403, 'AccessDenied', `User: ${key} is not authorized to perform: sts:AssumeRole on resource: ${entry.role}`);
  const expires = new Date(Date.now() + 3600 * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  res.writeHead(200, { 'content-type': 'text/xml' });
  res.end(`<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><AssumedRoleUser><AssumedRoleId>AROA:${entry.session}</AssumedRoleId><Arn>${entry.role}</Arn></AssumedRoleUser><Credentials><AccessKeyId>${role.key}</AccessKeyId><SecretAccessKey>${role.secret}</SecretAccessKey><SessionToken>${role.token}</SessionToken><Expiration>${expires}</Expiration></Credentials></AssumeRoleResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></AssumeRoleResponse>`);
}

function ssoCredentials(req, url, res) {
  const token = req.headers['x-amz-sso_bearer_token'];
  received.push({ action: 'GetRoleCredentials', account: url.searchParams.get('account_id'), role: url.searchParams.get('role_name') });
  if (token !== process.env.FAKE_SSO_TOKEN) {
    res.writeHead(401, { 'content-type': 'application/json' });
    return res.end(JSON.stringify({ message: 'Session token not found or invalid' }));
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ roleCredentials: { accessKeyId: role.key, secretAccessKey: role.secret, sessionToken: role.token,
    expiration: Date.now() + 3600 * 1000 } }));
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url, 'http://x');
    if (req.method === 'GET' && url.pathname === '/__requests') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify(received));
    }
    if (req.method === 'GET' && url.pathname === '/federation/credentials') return ssoCredentials(req, url, res);
    if (req.method === 'POST' && url.pathname === '/') return assumeRole(req, body, res);
    res.writeHead(404);
    res.end();
  });
});

server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`);
});
