// Command verify checks one Cancelflow webhook delivery (Standard Webhooks), with Go's standard
// library only (Go 1.19 or newer).
//
//	WEBHOOK_SECRET=whsec_… WEBHOOK_ID=evt_… WEBHOOK_TIMESTAMP=1764517427 \
//	WEBHOOK_SIGNATURE='v1,…' go run . < body.json
//
// It prints the event's type and exits 0 when the delivery is authentic; it prints why not to
// stderr and exits 1 otherwise. Copy VerifyWebhook into your app; the rest is this demo's plumbing.
package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// ---- The part to copy ---------------------------------------------------------------------

// WebhookTolerance is how far a delivery's timestamp may be from our clock, either way: a
// captured delivery cannot be replayed later, and the signature covers the timestamp, so it
// cannot be moved forward.
const WebhookTolerance = 5 * time.Minute

// Event is the envelope every Cancelflow event shares; Data depends on Type.
type Event struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	CreatedAt string          `json:"createdAt"`
	Livemode  bool            `json:"livemode"`
	Data      json.RawMessage `json:"data"`
}

// VerifyWebhook checks a delivery and returns the event it carries.
//
//   - secret: the endpoint's signing secret, "whsec_…" (shown when it was created or rotated)
//   - id: the webhook-id header (the event id, the same on every retry: deduplicate on it)
//   - timestamp: the webhook-timestamp header (seconds since 1970)
//   - signature: the webhook-signature header, space-separated "v1,<base64>" values
//   - body: the RAW request body, exactly as received (io.ReadAll(r.Body), capped with
//     http.MaxBytesReader). Parsed and re-serialised JSON does not hash the same, so verify
//     first and decode after.
func VerifyWebhook(secret, id, timestamp, signature string, body []byte, now time.Time) (*Event, error) {
	if id == "" || timestamp == "" || signature == "" {
		return nil, errors.New("missing webhook-id, webhook-timestamp or webhook-signature header")
	}
	// The key is the base64 part after "whsec_", decoded: the bytes, not the text.
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || len(key) == 0 {
		return nil, errors.New("the secret is not a whsec_ value with a base64 key")
	}

	// Digits only (ParseInt alone would also take a sign).
	if len(timestamp) > 15 || strings.Trim(timestamp, "0123456789") != "" {
		return nil, errors.New("webhook-timestamp is not a number of seconds")
	}
	seconds, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return nil, errors.New("webhook-timestamp is not a number of seconds")
	}
	skew := now.Unix() - seconds
	if skew < 0 {
		skew = -skew
	}
	if skew > int64(WebhookTolerance/time.Second) {
		return nil, errors.New("webhook-timestamp is more than 5 minutes from now (a replay, or a wrong clock)")
	}

	// The signed content binds the id and the timestamp to the body: "{id}.{timestamp}.{body}".
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + timestamp + "."))
	mac.Write(body)
	expected := mac.Sum(nil)

	// During a secret rotation there are two signatures (new secret, old secret): any may match.
	matched := false
	for _, candidate := range strings.Split(signature, " ") {
		if !strings.HasPrefix(candidate, "v1,") {
			continue // other schemes are not ours
		}
		given, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(candidate, "v1,"))
		// Constant time: a comparison that stops at the first wrong byte would let an attacker
		// find a valid signature byte by byte by timing it.
		if err == nil && hmac.Equal(given, expected) {
			matched = true
			break
		}
	}
	if !matched {
		return nil, errors.New("no signature matches: not from Cancelflow, altered, or another secret")
	}

	// Only now is the body trusted enough to decode.
	var event Event
	if err := json.Unmarshal(body, &event); err != nil {
		return nil, errors.New("the signature is valid but the body is not a JSON event")
	}
	return &event, nil
}

// ---- Demo: environment and stdin in, the event's type out ---------------------------------

func main() {
	body, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "invalid webhook: cannot read the body:", err)
		os.Exit(1)
	}
	event, err := VerifyWebhook(os.Getenv("WEBHOOK_SECRET"), os.Getenv("WEBHOOK_ID"),
		os.Getenv("WEBHOOK_TIMESTAMP"), os.Getenv("WEBHOOK_SIGNATURE"), body, time.Now())
	if err != nil {
		// In a server: answer 400 and do not act on the body.
		fmt.Fprintln(os.Stderr, "invalid webhook:", err)
		os.Exit(1)
	}
	// Handle it here, then answer 2xx quickly; anything else is retried.
	fmt.Println(event.Type)
}
