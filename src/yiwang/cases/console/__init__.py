"""The town dispatch console and the case pages for staff: queues, the case timeline, every transition."""
