"""The service layer: the inbound pipeline, one handler per command, the charge flow,
the scheduler and the outbox, over the storage and charging ports (store_port.py,
ports.py)."""
