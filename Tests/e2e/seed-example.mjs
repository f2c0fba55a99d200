// The seed's Node.js backend example, unchanged but for the host: it reads the service's base URL
// from CANCELFLOW_BASE_URL instead of naming the hosted API. Run by CancelflowAppTests with
// Node's built-in fetch; prints the JSON it gets back.
const base = process.env.CANCELFLOW_BASE_URL;

const response = await fetch(`${base}/v1/cancel-sessions`, {
  method: 'POST',
  headers: {
    'x-ck-app': process.env.CHURNKEY_APP_ID,
    'x-ck-api-key': process.env.CHURNKEY_API_KEY,
    'Content-Type': 'application/json',
  },
  body: JSON.stringify({
    customerId: 'cus_abc123',
    subscriptionId: 'sub_xyz789',
    expiresAt: new Date(Date.now() + 24 * 60 * 60 * 1000).toISOString(),
  }),
});

const { url } = await response.json();
// Redirect or return `url` to the client
console.log(JSON.stringify({ status: response.status, url }));
