// A "Cancel subscription" backend in plain Node (18+): no dependencies.
// Run: CANCELFLOW_APP_ID=app_test_… CANCELFLOW_API_KEY=ck_test_… node server.js
'use strict';

const http = require('node:http');
const crypto = require('node:crypto');

const BASE_URL = (process.env.CANCELFLOW_BASE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
const APP_ID = process.env.CANCELFLOW_APP_ID;
const API_KEY = process.env.CANCELFLOW_API_KEY;
const PORT = Number(process.env.PORT || 3000);

// The API key stays on this server: the browser only ever talks to us.
if (!APP_ID || !API_KEY) {
  console.error('Set CANCELFLOW_APP_ID and CANCELFLOW_API_KEY (the first `cancelflow serve` prints the test ones).');
  process.exit(1);
}

// A real app takes these from its session (the logged-in user), never from
// the request, so nobody can mint a link for someone else's subscription.
function currentUser(req) {
  return {
    customerId: process.env.EXAMPLE_CUSTOMER_ID || 'cus_abc123',
    subscriptionId: process.env.EXAMPLE_SUBSCRIPTION_ID || 'sub_xyz789',
  };
}

class CancelflowError extends Error {
  constructor(code, message) {
    super(`${code}: ${message}`);
    this.code = code;
  }
}

async function mintCancelLink({ customerId, subscriptionId }) {
  let response;
  try {
    response = await fetch(`${BASE_URL}/v1/cancel-sessions`, {
      method: 'POST',
      headers: {
        'x-ck-app': APP_ID,
        'x-ck-api-key': API_KEY,
        'Content-Type': 'application/json',
        // One key per click. Should this request be retried (say, after a
        // timeout), resend it with the same key: the server then answers with
        // the link it already minted instead of minting a second one.
        'Idempotency-Key': crypto.randomUUID(),
      },
      body: JSON.stringify({
        customerId,
        subscriptionId,
        // Short-lived: the customer is about to be redirected to it.
        expiresAt: new Date(Date.now() + 60 * 60 * 1000).toISOString(),
      }),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    throw new CancelflowError('unreachable', `could not reach Cancelflow (${err.message})`);
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok || !body.url) {
    const error = body.error || {};
    throw new CancelflowError(error.code || `http_${response.status}`,
      `${error.message || 'unexpected response'} (request ${error.request_id || 'unknown'})`);
  }
  // Log who, never the url or token: the link works for whoever holds it.
  console.error(`minted a cancel link for ${customerId}`);
  return body.url;
}

const PAGE = `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>Your account</title>
<h1>Your subscription</h1>

<!-- Server-side redirect: a plain form; the server answers 302 to the Cancel Link. -->
<form method="post" action="/cancel-subscription">
  <button type="submit">Cancel subscription</button>
</form>

<!-- Client-side redirect, as a single-page app does it. -->
<p><button type="button" id="cancel-spa">Cancel subscription (client-side)</button></p>
<script>
document.getElementById('cancel-spa').addEventListener('click', async () => {
  const response = await fetch('/api/cancel-link', { method: 'POST' });
  if (!response.ok) return alert(await response.text());
  const { url } = await response.json();
  window.location.href = url;
});
</script>
</html>
`;

async function handle(req, res) {
  const path = new URL(req.url, 'http://localhost').pathname;
  // A real app also checks its session and CSRF token on the two POSTs.
  if (req.method === 'GET' && path === '/') {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    return res.end(PAGE);
  }
  if (req.method === 'POST' && (path === '/cancel-subscription' || path === '/api/cancel-link')) {
    let url;
    try {
      url = await mintCancelLink(currentUser(req));
    } catch (err) {
      if (!(err instanceof CancelflowError)) throw err;
      console.error(`cancel link failed: ${err.message}`);
      res.writeHead(502, { 'Content-Type': 'text/plain; charset=utf-8' });
      return res.end(`Could not start cancellation: ${err.message}\n`);
    }
    // no-store: the url is a credential; no cache should keep a copy.
    if (path === '/cancel-subscription') {
      res.writeHead(302, { Location: url, 'Cache-Control': 'no-store' });
      return res.end();
    }
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
    return res.end(JSON.stringify({ url }));
  }
  res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end('Not found\n');
}

http.createServer((req, res) => {
  handle(req, res).catch((err) => {
    console.error(err);
    if (!res.headersSent) res.writeHead(500);
    res.end();
  });
}).listen(PORT, '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${PORT}`);
});
