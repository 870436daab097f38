"""Docker-free local stack: moto as AWS, the Stripe sandbox as Stripe, template.yaml as the only
declaration of what exists (tables, queues, rules, user pool, routes, functions and their environment).

Entry points: ``python -m local.stack`` (``make run``) and :class:`local.stack.stack.LocalStack` for tests.
"""
