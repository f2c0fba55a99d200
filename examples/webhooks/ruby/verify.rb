#!/usr/bin/env ruby
# frozen_string_literal: true

# Verifies one Cancelflow webhook delivery (Standard Webhooks), with Ruby's standard library only
# (openssl and json; no gems, not even base64, which Ruby 3.4 no longer ships by default).
#
#   WEBHOOK_SECRET=whsec_… WEBHOOK_ID=evt_… WEBHOOK_TIMESTAMP=1764517427 \
#   WEBHOOK_SIGNATURE='v1,…' ruby verify.rb < body.json
#
# Prints the event's type and exits 0 when the delivery is authentic; prints why not to stderr
# and exits 1 otherwise. Copy `verify_webhook` into your app; the rest is this demo's plumbing.
require 'json'
require 'openssl'

# ---- The part to copy -------------------------------------------------------------------------

class WebhookVerificationError < StandardError; end

# Refuse timestamps further than this from our clock, either way: a captured delivery cannot be
# replayed later, and the signature covers the timestamp, so it cannot be moved forward.
WEBHOOK_TOLERANCE_SECONDS = 300

# Checks a delivery and returns the event it carries (a Hash).
#
# secret    the endpoint's signing secret, `whsec_…` (shown when it was created or rotated)
# id        the `webhook-id` header (the event id, the same on every retry: deduplicate on it)
# timestamp the `webhook-timestamp` header (seconds since 1970)
# signature the `webhook-signature` header: space-separated `v1,<base64>` values
# body      the RAW request body, exactly as received (Rails: `request.raw_post`, Rack:
#           `request.body.read`). Parsed and re-serialised JSON does not hash the same, so
#           verify first and parse after.
# now       seconds since 1970
def verify_webhook(secret, id, timestamp, signature, body, now = Time.now.to_i)
  if [id, timestamp, signature].any? { |value| value.nil? || value.empty? }
    raise WebhookVerificationError, 'missing webhook-id, webhook-timestamp or webhook-signature header'
  end
  # The key is the base64 part after `whsec_`, decoded: the bytes, not the text.
  # (`unpack1('m0')` is strict base64 and raises ArgumentError on anything else.)
  key = begin
    secret.to_s.delete_prefix('whsec_').unpack1('m0')
  rescue ArgumentError
    ''
  end
  raise WebhookVerificationError, 'the secret is not a whsec_ value with a base64 key' if key.empty?

  unless timestamp.match?(/\A[0-9]{1,15}\z/)
    raise WebhookVerificationError, 'webhook-timestamp is not a number of seconds'
  end
  if (now - timestamp.to_i).abs > WEBHOOK_TOLERANCE_SECONDS
    raise WebhookVerificationError, 'webhook-timestamp is more than 5 minutes from now (a replay, or a wrong clock)'
  end

  # The signed content binds the id and the timestamp to the body: `{id}.{timestamp}.{body}`.
  # Everything as bytes (.b), so that no encoding conversion touches the body.
  expected = OpenSSL::HMAC.digest('SHA256', key, "#{id}.#{timestamp}.".b + body.b)

  # During a secret rotation there are two signatures (new secret, old secret): any may match.
  matched = signature.split(' ').any? do |candidate|
    next false unless candidate.start_with?('v1,') # other schemes are not ours

    given = begin
      candidate.delete_prefix('v1,').unpack1('m0')
    rescue ArgumentError
      next false
    end
    # Constant time: a comparison that stops at the first wrong byte would let an attacker
    # find a valid signature byte by byte by timing it. (The length is no secret.)
    given.bytesize == expected.bytesize && OpenSSL.fixed_length_secure_compare(given, expected)
  end
  raise WebhookVerificationError, 'no signature matches: not from Cancelflow, altered, or another secret' unless matched

  # Only now is the body trusted enough to parse.
  begin
    JSON.parse(body.b.force_encoding(Encoding::UTF_8))
  rescue JSON::ParserError
    raise WebhookVerificationError, 'the signature is valid but the body is not JSON'
  end
end

# ---- Demo: environment and stdin in, the event's type out ------------------------------------

if $PROGRAM_NAME == __FILE__
  body = $stdin.binmode.read
  begin
    event = verify_webhook(ENV.fetch('WEBHOOK_SECRET', ''), ENV.fetch('WEBHOOK_ID', ''),
                           ENV.fetch('WEBHOOK_TIMESTAMP', ''), ENV.fetch('WEBHOOK_SIGNATURE', ''), body)
  rescue WebhookVerificationError => e
    # In a server: answer 400 and do not act on the body.
    warn "invalid webhook: #{e.message}"
    exit 1
  end
  # Handle it here, then answer 2xx quickly; anything else is retried.
  puts event.is_a?(Hash) ? event['type'] : nil
end
