// A "Cancel subscription" backend with Go's standard library only (Go 1.19+).
// Run: CANCELFLOW_APP_ID=app_test_… CANCELFLOW_API_KEY=ck_test_… go run .
package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

var (
	baseURL = strings.TrimRight(getenv("CANCELFLOW_BASE_URL", "http://127.0.0.1:8080"), "/")
	appID   = os.Getenv("CANCELFLOW_APP_ID")
	apiKey  = os.Getenv("CANCELFLOW_API_KEY")
	port    = getenv("PORT", "3000")

	client = &http.Client{Timeout: 10 * time.Second}
)

func getenv(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

// currentUser stands in for the logged-in user. A real app takes these from
// its session, never from the request, so nobody can mint a link for someone
// else's subscription.
func currentUser(r *http.Request) (customerID, subscriptionID string) {
	return getenv("EXAMPLE_CUSTOMER_ID", "cus_abc123"), getenv("EXAMPLE_SUBSCRIPTION_ID", "sub_xyz789")
}

type apiError struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"request_id"`
}

func (e *apiError) Error() string {
	if e.RequestID == "" {
		return e.Code + ": " + e.Message
	}
	return fmt.Sprintf("%s: %s (request %s)", e.Code, e.Message, e.RequestID)
}

func mintCancelLink(customerID, subscriptionID string) (string, error) {
	body, _ := json.Marshal(map[string]string{
		"customerId":     customerID,
		"subscriptionId": subscriptionID,
		// Short-lived: the customer is about to be redirected to it.
		"expiresAt": time.Now().UTC().Add(time.Hour).Format(time.RFC3339),
	})
	req, err := http.NewRequest(http.MethodPost, baseURL+"/v1/cancel-sessions", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("x-ck-app", appID)
	req.Header.Set("x-ck-api-key", apiKey)
	req.Header.Set("Content-Type", "application/json")
	// One key per click. Should this request be retried (say, after a
	// timeout), resend it with the same key: the server then answers with the
	// link it already minted instead of minting a second one.
	req.Header.Set("Idempotency-Key", randomKey())

	resp, err := client.Do(req)
	if err != nil {
		return "", &apiError{Code: "unreachable", Message: err.Error()}
	}
	defer resp.Body.Close()

	var out struct {
		URL   string    `json:"url"`
		Error *apiError `json:"error"`
	}
	decodeErr := json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode/100 != 2 || decodeErr != nil || out.URL == "" {
		if out.Error != nil {
			return "", out.Error
		}
		return "", &apiError{Code: fmt.Sprintf("http_%d", resp.StatusCode), Message: "unexpected response"}
	}
	// Log who, never the url or token: the link works for whoever holds it.
	log.Printf("minted a cancel link for %s", customerID)
	return out.URL, nil
}

func randomKey() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// handleMint serves both redirect styles; the caller picks how to answer.
func handleMint(respond func(w http.ResponseWriter, r *http.Request, url string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "Method not allowed", http.StatusMethodNotAllowed)
			return
		}
		// A real app also checks its session and CSRF token here.
		url, err := mintCancelLink(currentUser(r))
		if err != nil {
			log.Printf("cancel link failed: %v", err)
			http.Error(w, "Could not start cancellation: "+err.Error(), http.StatusBadGateway)
			return
		}
		// no-store: the url is a credential; no cache should keep a copy.
		w.Header().Set("Cache-Control", "no-store")
		respond(w, r, url)
	}
}

const page = `<!doctype html>
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
`

func main() {
	// The API key stays on this server: the browser only ever talks to us.
	if appID == "" || apiKey == "" {
		fmt.Fprintln(os.Stderr, "Set CANCELFLOW_APP_ID and CANCELFLOW_API_KEY (the first `cancelflow serve` prints the test ones).")
		os.Exit(1)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" || r.Method != http.MethodGet {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, page)
	})
	mux.HandleFunc("/cancel-subscription", handleMint(func(w http.ResponseWriter, r *http.Request, url string) {
		http.Redirect(w, r, url, http.StatusFound)
	}))
	mux.HandleFunc("/api/cancel-link", handleMint(func(w http.ResponseWriter, r *http.Request, url string) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"url": url})
	}))

	// Listen first, so "listening on" is printed only once connections work.
	ln, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening on http://127.0.0.1:%s\n", port)
	server := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(server.Serve(ln))
}
