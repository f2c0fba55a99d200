# A "Cancel subscription" backend with Ruby's standard library only (3.1+).
# Run: CANCELFLOW_APP_ID=app_test_… CANCELFLOW_API_KEY=ck_test_… ruby server.rb
#
# The HTTP server is a deliberately tiny TCPServer loop so the example needs no
# gems; in a real app the two routes below are a few lines of Rails, Sinatra or
# Rack, and mint_cancel_link is all you copy.
require 'json'
require 'net/http'
require 'securerandom'
require 'socket'
require 'time'

BASE_URL = ENV.fetch('CANCELFLOW_BASE_URL', 'http://127.0.0.1:8080').chomp('/')
APP_ID = ENV['CANCELFLOW_APP_ID']
API_KEY = ENV['CANCELFLOW_API_KEY']
PORT = Integer(ENV.fetch('PORT', '3000'))

# The API key stays on this server: the browser only ever talks to us.
if APP_ID.to_s.empty? || API_KEY.to_s.empty?
  abort 'Set CANCELFLOW_APP_ID and CANCELFLOW_API_KEY (the first `cancelflow serve` prints the test ones).'
end

PAGE = <<~HTML
  <!doctype html>
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
HTML

class CancelflowError < StandardError; end

# A real app takes these from its session (the logged-in user), never from the
# request, so nobody can mint a link for someone else's subscription.
def current_user
  [ENV.fetch('EXAMPLE_CUSTOMER_ID', 'cus_abc123'), ENV.fetch('EXAMPLE_SUBSCRIPTION_ID', 'sub_xyz789')]
end

def mint_cancel_link(customer_id, subscription_id)
  uri = URI("#{BASE_URL}/v1/cancel-sessions")
  request = Net::HTTP::Post.new(uri,
    'x-ck-app' => APP_ID,
    'x-ck-api-key' => API_KEY,
    'Content-Type' => 'application/json',
    # One key per click. Should this request be retried (say, after a
    # timeout), resend it with the same key: the server then answers with the
    # link it already minted instead of minting a second one.
    'Idempotency-Key' => SecureRandom.uuid)
  request.body = JSON.generate(
    customerId: customer_id,
    subscriptionId: subscription_id,
    # Short-lived: the customer is about to be redirected to it.
    expiresAt: (Time.now.utc + 3600).iso8601
  )
  response = Net::HTTP.start(uri.host, uri.port, use_ssl: uri.scheme == 'https',
                             open_timeout: 10, read_timeout: 10) { |http| http.request(request) }
  body = JSON.parse(response.body) rescue {}
  unless response.is_a?(Net::HTTPSuccess) && body['url']
    error = body['error'] || {}
    raise CancelflowError, "#{error['code'] || "http_#{response.code}"}: " \
                           "#{error['message'] || 'unexpected response'} (request #{error['request_id'] || 'unknown'})"
  end
  # Log who, never the url or token: the link works for whoever holds it.
  warn "minted a cancel link for #{customer_id}"
  body['url']
rescue SystemCallError, IOError, Timeout::Error, SocketError => e
  raise CancelflowError, "unreachable: #{e.message}"
end

# Returns [status, headers, body].
def route(method, path)
  return [200, { 'Content-Type' => 'text/html; charset=utf-8' }, PAGE] if method == 'GET' && path == '/'
  unless method == 'POST' && ['/cancel-subscription', '/api/cancel-link'].include?(path)
    return [404, { 'Content-Type' => 'text/plain; charset=utf-8' }, "Not found\n"]
  end

  # A real app also checks its session and CSRF token here.
  begin
    url = mint_cancel_link(*current_user)
  rescue CancelflowError => e
    warn "cancel link failed: #{e.message}"
    return [502, { 'Content-Type' => 'text/plain; charset=utf-8' }, "Could not start cancellation: #{e.message}\n"]
  end
  # no-store: the url is a credential; no cache should keep a copy.
  if path == '/cancel-subscription'
    [302, { 'Location' => url, 'Cache-Control' => 'no-store' }, '']
  else
    [200, { 'Content-Type' => 'application/json', 'Cache-Control' => 'no-store' }, JSON.generate(url: url)]
  end
end

REASONS = { 200 => 'OK', 302 => 'Found', 400 => 'Bad Request', 404 => 'Not Found', 502 => 'Bad Gateway' }.freeze

def serve(client)
  method, target = client.gets&.split(' ', 3)
  return unless target

  headers = {}
  while (line = client.gets) && line != "\r\n"
    name, value = line.split(':', 2)
    headers[name.strip.downcase] = value.to_s.strip
  end
  client.read(headers['content-length'].to_i) # the form's (empty) body; unused
  status, response_headers, body = route(method, target.split('?').first)
  client.write("HTTP/1.1 #{status} #{REASONS.fetch(status, '')}\r\n")
  response_headers.merge('Content-Length' => body.bytesize, 'Connection' => 'close')
                  .each { |name, value| client.write("#{name}: #{value}\r\n") }
  client.write("\r\n", body)
rescue StandardError => e
  warn "request failed: #{e.class}: #{e.message}"
ensure
  client.close
end

trap('INT') { exit }
trap('TERM') { exit }
server = TCPServer.new('127.0.0.1', PORT)
puts "listening on http://127.0.0.1:#{PORT}"
$stdout.flush
loop { Thread.new(server.accept) { |client| serve(client) } }
