"""Verifies webhook deliveries with the `standardwebhooks` package from PyPI, an implementation
independent of ours. Reads {"secret": …, "deliveries": [{"headers": {…}, "body": "…"}]} on stdin;
checks the specification's published test vector first; prints how many deliveries verified and
exits non-zero on the first one that does not."""
import json
import sys

from standardwebhooks.webhooks import Webhook

vector = Webhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
import datetime
signed = vector.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", datetime.datetime.fromtimestamp(1614265330, tz=datetime.timezone.utc), '{"test": 2432232314}')
if signed != expected:
    print(f"the library disagrees with the published vector: {signed}", file=sys.stderr)
    sys.exit(1)

data = json.load(sys.stdin)
webhook = Webhook(data["secret"])
for delivery in data["deliveries"]:
    try:
        webhook.verify(delivery["body"], delivery["headers"])
    except Exception as error:  # noqa: BLE001 - report whatever the library raised
        print(f"delivery {delivery['headers'].get('webhook-id')} did not verify: {error}", file=sys.stderr)
        sys.exit(1)
print(json.dumps({"verified": len(data["deliveries"])}))
