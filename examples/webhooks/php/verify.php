<?php
// Verifies one Cancelflow webhook delivery (Standard Webhooks), with PHP's standard library only
// (PHP 8.0 or newer: hash_hmac, hash_equals, base64_decode, json_decode).
//
//   WEBHOOK_SECRET=whsec_… WEBHOOK_ID=evt_… WEBHOOK_TIMESTAMP=1764517427 \
//   WEBHOOK_SIGNATURE='v1,…' php verify.php < body.json
//
// Prints the event's type and exits 0 when the delivery is authentic; prints why not to stderr
// and exits 1 otherwise. Copy verify_webhook() into your app; the rest is this demo's plumbing.
declare(strict_types=1);

// ---- The part to copy -------------------------------------------------------------------------

final class WebhookVerificationError extends Exception {}

// Refuse timestamps further than this from our clock, either way: a captured delivery cannot be
// replayed later, and the signature covers the timestamp, so it cannot be moved forward.
const WEBHOOK_TOLERANCE_SECONDS = 300;

/**
 * Checks a delivery and returns the event it carries (an array).
 *
 * $secret    the endpoint's signing secret, `whsec_…` (shown when it was created or rotated)
 * $id        the `webhook-id` header (the event id, the same on every retry: deduplicate on it)
 * $timestamp the `webhook-timestamp` header (seconds since 1970)
 * $signature the `webhook-signature` header: space-separated `v1,<base64>` values
 * $body      the RAW request body, exactly as received: file_get_contents('php://input'), never
 *            $_POST or a re-encoded array; re-serialised JSON does not hash the same. In a web
 *            request the headers are $_SERVER['HTTP_WEBHOOK_ID'], ['HTTP_WEBHOOK_TIMESTAMP'] and
 *            ['HTTP_WEBHOOK_SIGNATURE'].
 * $now       seconds since 1970
 */
function verify_webhook(string $secret, string $id, string $timestamp, string $signature, string $body, ?int $now = null): array
{
    if ($id === '' || $timestamp === '' || $signature === '') {
        throw new WebhookVerificationError('missing webhook-id, webhook-timestamp or webhook-signature header');
    }
    // The key is the base64 part after `whsec_`, decoded: the bytes, not the text.
    $encoded = str_starts_with($secret, 'whsec_') ? substr($secret, 6) : $secret;
    $key = base64_decode($encoded, true); // strict: false on anything but base64
    if ($key === false || $key === '') {
        throw new WebhookVerificationError('the secret is not a whsec_ value with a base64 key');
    }

    if (preg_match('/^[0-9]{1,15}$/D', $timestamp) !== 1) {
        throw new WebhookVerificationError('webhook-timestamp is not a number of seconds');
    }
    $now ??= time();
    if (abs($now - (int) $timestamp) > WEBHOOK_TOLERANCE_SECONDS) {
        throw new WebhookVerificationError('webhook-timestamp is more than 5 minutes from now (a replay, or a wrong clock)');
    }

    // The signed content binds the id and the timestamp to the body: `{id}.{timestamp}.{body}`.
    $expected = hash_hmac('sha256', "{$id}.{$timestamp}.{$body}", $key, true);

    // During a secret rotation there are two signatures (new secret, old secret): any may match.
    $matched = false;
    foreach (explode(' ', $signature) as $candidate) {
        if (!str_starts_with($candidate, 'v1,')) {
            continue; // other schemes are not ours
        }
        $given = base64_decode(substr($candidate, 3), true);
        // Constant time: a comparison that stops at the first wrong byte would let an attacker
        // find a valid signature byte by byte by timing it.
        if ($given !== false && hash_equals($expected, $given)) {
            $matched = true;
            break;
        }
    }
    if (!$matched) {
        throw new WebhookVerificationError('no signature matches: not from Cancelflow, altered, or another secret');
    }

    // Only now is the body trusted enough to parse.
    $event = json_decode($body, true);
    if (!is_array($event)) {
        throw new WebhookVerificationError('the signature is valid but the body is not a JSON object');
    }
    return $event;
}

// ---- Demo: environment and stdin in, the event's type out ------------------------------------

if (PHP_SAPI === 'cli' && realpath($_SERVER['SCRIPT_FILENAME'] ?? '') === __FILE__) {
    $body = (string) file_get_contents('php://stdin');
    try {
        $event = verify_webhook(
            (string) getenv('WEBHOOK_SECRET'),
            (string) getenv('WEBHOOK_ID'),
            (string) getenv('WEBHOOK_TIMESTAMP'),
            (string) getenv('WEBHOOK_SIGNATURE'),
            $body
        );
    } catch (WebhookVerificationError $error) {
        // In a server: http_response_code(400) and do not act on the body.
        fwrite(STDERR, 'invalid webhook: ' . $error->getMessage() . "\n");
        exit(1);
    }
    // Handle it here, then answer 2xx quickly; anything else is retried.
    echo ($event['type'] ?? ''), "\n";
}
