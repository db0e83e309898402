"""Delivery of the transactional outbox: claim due messages, send them, retry or give up."""
