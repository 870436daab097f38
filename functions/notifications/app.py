"""Notifications consumer: SQS batches of bus events (partial batch failures), each event handled once."""

from coursepay.consumers.notifications import build_consumer
from coursepay.consumers.runner import consumer_lambda_handler

lambda_handler = consumer_lambda_handler(build_consumer)
