"""Metering: usage spans recorded from provider events (lease ends, server changes...)."""
