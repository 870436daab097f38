"""Meetings consumer: SQS batches of booking.paid events (partial batch failures); each booking's online meeting
created once, then booking.meeting_created published."""

from coursepay.consumers.meetings import build_consumer
from coursepay.consumers.runner import consumer_lambda_handler

lambda_handler = consumer_lambda_handler(build_consumer)
