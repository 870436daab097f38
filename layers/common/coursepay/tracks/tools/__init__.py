"""Learning tools provisioned per student, one adapter per tool kind behind one interface
(``interface.Provisioner``): PostgreSQL (``postgres``), GitHub (``github``), Discord (``discord``), JupyterHub-style
hubs (``hub``) and plain links (``links``). Each adapter is configured from its own Secrets Manager secret
(``config``); what a student receives is recorded in the enrollments table (``records``), the one per-student
password encrypted with KMS (``vault``). See README.md ("Paid tracks": tools) and docs/decisions.md D11.
"""
