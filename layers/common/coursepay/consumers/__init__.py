"""SQS consumers of the bus: each message is an EventBridge event carrying a coursepay envelope."""
