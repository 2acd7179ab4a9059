"""The ``ocx`` command line: ``ocx <noun> <verb>``, talking to the API (server commands aside)."""
