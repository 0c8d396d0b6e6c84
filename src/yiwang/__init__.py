"""Yiwang (一网): one network for a township's rural revitalization."""
