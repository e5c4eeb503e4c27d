"""Events: envelope, outbox, relay to EventBridge, SQS consumer."""
