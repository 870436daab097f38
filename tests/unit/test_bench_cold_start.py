"""The cold-start bench probes each function with the environment Lambda would give it, and holds each row
to the issue's target (API functions <= 0.55 x the Django peer, the webhook <= 0.40 x, consumers none)."""

from __future__ import annotations

from pathlib import Path

from bench.cold_start import API_TARGET, WEBHOOK_TARGET, deployed_value, function_rows, target_for
from local.stack.template import load_template

TEMPLATE = load_template(Path(__file__).resolve().parents[2] / "template.yaml")


def test_a_variable_gets_its_literal_its_parameter_default_or_a_stand_in_for_a_physical_id() -> None:
    assert deployed_value(TEMPLATE, "POWERTOOLS_SERVICE_NAME", "webhook") == "webhook"
    assert deployed_value(TEMPLATE, "POWERTOOLS_LOG_LEVEL", {"Ref": "LogLevel"}) == "INFO"
    assert deployed_value(TEMPLATE, "ACCOUNTS_TABLE", {"Ref": "AccountsTable"}) == "bench-accounts_table"


def test_every_function_is_a_row_with_the_variables_powertools_reads_at_import() -> None:
    rows = function_rows()
    assert {"WebhookFunction", "CheckoutFunction", "PaymentsFunction", "FulfilmentFunction"} <= set(rows)
    for directory, variables, _ in rows.values():
        assert variables["POWERTOOLS_LOG_LEVEL"] == "INFO", directory
        assert variables["POWERTOOLS_SERVICE_NAME"], directory


def test_the_targets_are_the_issues() -> None:
    rows = function_rows()
    assert target_for("WebhookFunction", rows["WebhookFunction"][2]) == WEBHOOK_TARGET == 0.40
    assert target_for("CheckoutFunction", rows["CheckoutFunction"][2]) == API_TARGET == 0.55
    assert target_for("FulfilmentFunction", rows["FulfilmentFunction"][2]) is None  # an SQS consumer
