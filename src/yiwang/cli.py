"""The ``yiwang`` console command: Django's management commands plus ours (regions, demo, metrics).

``yiwang regions load FILE --under CODE``, ``yiwang demo load``, ``yiwang metrics --region CODE`` ...
"""
import os
import sys


def main(argv=None):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv if argv is None else argv)
    argv[0] = "yiwang"
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
