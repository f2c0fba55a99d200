module example.com/cancelflow-webhook-verify

go 1.19
