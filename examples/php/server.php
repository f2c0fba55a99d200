<?php
// A "Cancel subscription" backend in plain PHP (8.1+): no extensions beyond
// the defaults (no curl), served by PHP's built-in web server.
//
// Run: CANCELFLOW_APP_ID=app_test_… CANCELFLOW_API_KEY=ck_test_… php server.php
// (that checks the configuration, then runs `php -S 127.0.0.1:$PORT server.php`,
// which calls this same file once per request). Under Apache or PHP-FPM, the
// request half below is all you need.

declare(strict_types=1);

$baseUrl = rtrim(getenv('CANCELFLOW_BASE_URL') ?: 'http://127.0.0.1:8080', '/');
$appId = getenv('CANCELFLOW_APP_ID') ?: '';
$apiKey = getenv('CANCELFLOW_API_KEY') ?: '';
$port = getenv('PORT') ?: '3000';

// The API key stays on this server: the browser only ever talks to us.
if ($appId === '' || $apiKey === '') {
    error_log('Set CANCELFLOW_APP_ID and CANCELFLOW_API_KEY (the first `cancelflow serve` prints the test ones).');
    if (PHP_SAPI !== 'cli') {
        http_response_code(500);
    }
    exit(1);
}

if (PHP_SAPI === 'cli') {
    // Launcher: start the built-in server on this file, and say so once it
    // accepts connections (it announces itself only on stderr, in its own words).
    $server = proc_open([PHP_BINARY, '-S', "127.0.0.1:$port", __FILE__], [STDIN, STDOUT, STDERR], $pipes);
    while (proc_get_status($server)['running']) {
        if ($socket = @fsockopen('127.0.0.1', (int) $port, $errno, $errstr, 0.2)) {
            fclose($socket);
            echo "listening on http://127.0.0.1:$port\n";
            exit(proc_close($server));
        }
        usleep(100_000);
    }
    exit(1); // the built-in server did not start; it said why on stderr
}

final class CancelflowError extends RuntimeException {}

// A real app takes these from its session (the logged-in user), never from the
// request, so nobody can mint a link for someone else's subscription.
function currentUser(): array
{
    return [getenv('EXAMPLE_CUSTOMER_ID') ?: 'cus_abc123', getenv('EXAMPLE_SUBSCRIPTION_ID') ?: 'sub_xyz789'];
}

function mintCancelLink(string $customerId, string $subscriptionId): string
{
    global $baseUrl, $appId, $apiKey;
    $context = stream_context_create(['http' => [
        'method' => 'POST',
        'header' => implode("\r\n", [
            "x-ck-app: $appId",
            "x-ck-api-key: $apiKey",
            'Content-Type: application/json',
            // One key per click. Should this request be retried (say, after a
            // timeout), resend it with the same key: the server then answers
            // with the link it already minted instead of minting a second one.
            'Idempotency-Key: ' . bin2hex(random_bytes(16)),
        ]),
        'content' => json_encode([
            'customerId' => $customerId,
            'subscriptionId' => $subscriptionId,
            // Short-lived: the customer is about to be redirected to it.
            'expiresAt' => gmdate('Y-m-d\TH:i:s\Z', time() + 3600),
        ]),
        'timeout' => 10,
        'ignore_errors' => true, // hand us 4xx/5xx bodies instead of failing
    ]]);
    $response = @file_get_contents("$baseUrl/v1/cancel-sessions", false, $context);
    if ($response === false) {
        throw new CancelflowError('unreachable: ' . (error_get_last()['message'] ?? 'no answer from Cancelflow'));
    }
    preg_match('{^HTTP/\S+ (\d{3})}', $http_response_header[0] ?? '', $match);
    $status = (int) ($match[1] ?? 0);
    $body = json_decode($response, true) ?: [];
    if ($status < 200 || $status > 299 || empty($body['url'])) {
        $error = $body['error'] ?? [];
        throw new CancelflowError(sprintf('%s: %s (request %s)', $error['code'] ?? "http_$status",
            $error['message'] ?? 'unexpected response', $error['request_id'] ?? 'unknown'));
    }
    // Log who, never the url or token: the link works for whoever holds it.
    error_log("minted a cancel link for $customerId");
    return $body['url'];
}

const PAGE = <<<'HTML'
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

HTML;

$method = $_SERVER['REQUEST_METHOD'];
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);

if ($method === 'GET' && $path === '/') {
    header('Content-Type: text/html; charset=utf-8');
    echo PAGE;
} elseif ($method === 'POST' && in_array($path, ['/cancel-subscription', '/api/cancel-link'], true)) {
    // A real app also checks its session and CSRF token here.
    try {
        $url = mintCancelLink(...currentUser());
    } catch (CancelflowError $e) {
        error_log('cancel link failed: ' . $e->getMessage());
        http_response_code(502);
        header('Content-Type: text/plain; charset=utf-8');
        echo 'Could not start cancellation: ', $e->getMessage(), "\n";
        exit;
    }
    // no-store: the url is a credential; no cache should keep a copy.
    header('Cache-Control: no-store');
    if ($path === '/cancel-subscription') {
        header("Location: $url", true, 302);
    } else {
        header('Content-Type: application/json');
        echo json_encode(['url' => $url], JSON_UNESCAPED_SLASHES);
    }
} else {
    http_response_code(404);
    header('Content-Type: text/plain; charset=utf-8');
    echo "Not found\n";
}
