"""``python -m yiwang`` is the same as the ``yiwang`` command."""
from yiwang.cli import main

main()
