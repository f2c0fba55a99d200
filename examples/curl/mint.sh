#!/usr/bin/env bash
# Mint a Cancel Link with curl and print its url: the "no code" way to send
# one customer to the cancel flow (a support reply, a one-off script).
#
#   CANCELFLOW_APP_ID=app_test_… CANCELFLOW_API_KEY=ck_test_… ./mint.sh [customerId] [subscriptionId]
#
# The url is a credential (like a password-reset link): paste it to the
# customer, don't leave it in shared logs or tickets.
set -euo pipefail

base_url="${CANCELFLOW_BASE_URL:-http://127.0.0.1:8080}"
app_id="${CANCELFLOW_APP_ID:?set CANCELFLOW_APP_ID (the App ID that cancelflow serve printed)}"
api_key="${CANCELFLOW_API_KEY:?set CANCELFLOW_API_KEY (the API key that cancelflow serve printed)}"
customer_id="${1:-${EXAMPLE_CUSTOMER_ID:-cus_abc123}}"
subscription_id="${2:-${EXAMPLE_SUBSCRIPTION_ID:-sub_xyz789}}"

# One hour from now, in UTC; GNU date first, then BSD/macOS date.
expires_at="$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || date -u -v+1H +%Y-%m-%dT%H:%M:%SZ)"

# The same key on every try: --retry below may resend this request after a
# timeout or a 5xx, and the key makes the server answer a retry with the link
# it already minted instead of minting a second one.
idempotency_key="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"

response="$(curl -sS --retry 2 --retry-connrefused --max-time 10 \
  -X POST "$base_url/v1/cancel-sessions" \
  -H "x-ck-app: $app_id" \
  -H "x-ck-api-key: $api_key" \
  -H 'Content-Type: application/json' \
  -H "Idempotency-Key: $idempotency_key" \
  -d "{\"customerId\": \"$customer_id\", \"subscriptionId\": \"$subscription_id\", \"expiresAt\": \"$expires_at\"}" \
  -w '\n%{http_code}')"

status="${response##*$'\n'}"
body="${response%$'\n'*}"

if [[ "$status" != 2* ]]; then
  # The error body names a code, a message and a request_id, never the key.
  echo "mint failed (HTTP $status): $body" >&2
  exit 1
fi

# Pull "url" out of the JSON without needing jq.
url="$(printf '%s' "$body" | sed -n 's/.*"url":"\([^"]*\)".*/\1/p')"
if [[ -z "$url" ]]; then
  echo "mint answered HTTP $status without a url" >&2
  exit 1
fi
echo "$url"
