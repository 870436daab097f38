"""Stand-ins for the HTTP services the learning-tool adapters call (GitHub, Discord, JupyterHub-style hubs):
exactly the endpoints ``coursepay.tracks.tools`` uses, with their auth headers checked and their error answers,
plus control routes under ``/_standins`` for tests (README.md beside this file)."""
