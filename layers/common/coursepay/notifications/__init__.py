"""E-mails: the template library (Jinja2, one base layout, HTML and plain text per message), amounts per
currency, the SES mailer, and the notices the notifications consumer sends for billing events.

Nothing here runs at import: the consumer builds its handlers (and with them the template environment) at
its first invocation (``coursepay.consumers.notifications``).
"""
