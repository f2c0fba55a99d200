#!/usr/bin/env node
// Verifies one Cancelflow webhook delivery (Standard Webhooks), with Node's standard library only.
//
//   WEBHOOK_SECRET=whsec_… WEBHOOK_ID=evt_… WEBHOOK_TIMESTAMP=1764517427 \
//   WEBHOOK_SIGNATURE='v1,…' node verify.js < body.json
//
// Prints the event's type and exits 0 when the delivery is authentic; prints why not to stderr
// and exits 1 otherwise. Copy `verifyWebhook` into your app; the rest is this demo's plumbing.
'use strict';

const crypto = require('node:crypto');

// ---- The part to copy ---------------------------------------------------------------------

class WebhookVerificationError extends Error {}

// Refuse timestamps further than this from our clock, either way: a captured delivery cannot be
// replayed later, and the signature covers the timestamp, so it cannot be moved forward.
const TOLERANCE_SECONDS = 300;

/**
 * Checks a delivery and returns the event it carries.
 *
 * secret    the endpoint's signing secret, `whsec_…` (shown when the endpoint was created or rotated)
 * id        the `webhook-id` header (the event id, the same on every retry: deduplicate on it)
 * timestamp the `webhook-timestamp` header (seconds since 1970)
 * signature the `webhook-signature` header: space-separated `v1,<base64>` values
 * body      the RAW request body as a Buffer, exactly as received. Parsed and re-serialised JSON
 *           does not hash the same, so verify first and parse after. (Express:
 *           `express.raw({ type: 'application/json' })` on this route; node:http: collect the chunks.)
 * now       seconds since 1970
 */
function verifyWebhook(secret, id, timestamp, signature, body, now = Math.floor(Date.now() / 1000)) {
  if (!id || !timestamp || !signature) {
    throw new WebhookVerificationError('missing webhook-id, webhook-timestamp or webhook-signature header');
  }
  // The key is the base64 part after `whsec_`, decoded: the bytes, not the text.
  const encoded = String(secret || '').replace(/^whsec_/, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) {
    throw new WebhookVerificationError('the secret is not a whsec_ value with a base64 key');
  }
  const key = Buffer.from(encoded, 'base64');

  if (!/^[0-9]{1,15}$/.test(timestamp)) {
    throw new WebhookVerificationError('webhook-timestamp is not a number of seconds');
  }
  if (Math.abs(now - Number(timestamp)) > TOLERANCE_SECONDS) {
    throw new WebhookVerificationError('webhook-timestamp is more than 5 minutes from now (a replay, or a wrong clock)');
  }

  // The signed content binds the id and the timestamp to the body: `{id}.{timestamp}.{body}`.
  const expected = crypto.createHmac('sha256', key)
    .update(`${id}.${timestamp}.`, 'utf8')
    .update(body)
    .digest();

  // During a secret rotation there are two signatures (new secret, old secret): any may match.
  const matched = signature.split(' ').some((candidate) => {
    if (!candidate.startsWith('v1,')) return false; // other schemes are not ours
    const given = Buffer.from(candidate.slice(3), 'base64');
    // Constant time: a comparison that stops at the first wrong byte would let an attacker
    // find a valid signature byte by byte by timing it. (The length is no secret.)
    return given.length === expected.length && crypto.timingSafeEqual(given, expected);
  });
  if (!matched) {
    throw new WebhookVerificationError('no signature matches: not from Cancelflow, altered, or another secret');
  }

  // Only now is the body trusted enough to parse.
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new WebhookVerificationError('the signature is valid but the body is not JSON');
  }
}

// ---- Demo: environment and stdin in, the event's type out ---------------------------------

function main() {
  const chunks = [];
  process.stdin.on('data', (chunk) => chunks.push(chunk));
  process.stdin.on('end', () => {
    const env = process.env;
    try {
      const event = verifyWebhook(env.WEBHOOK_SECRET, env.WEBHOOK_ID, env.WEBHOOK_TIMESTAMP,
        env.WEBHOOK_SIGNATURE, Buffer.concat(chunks));
      // Handle it here, then answer 2xx quickly; anything else is retried.
      console.log(event.type);
    } catch (err) {
      if (!(err instanceof WebhookVerificationError)) throw err;
      // In a server: answer 400 and do not act on the body.
      console.error(`invalid webhook: ${err.message}`);
      process.exitCode = 1;
    }
  });
}

if (require.main === module) main();

module.exports = { verifyWebhook, WebhookVerificationError };
