"""The current request's actor and IP, for audit entries written deep inside actions.

Set by ``RequestContextMiddleware`` for web requests; CLI commands and the demo builder set a
label with ``acting_as``. Nothing here reads the database.
"""
import contextlib
import contextvars

_ip = contextvars.ContextVar("yiwang_ip", default=None)
_channel = contextvars.ContextVar("yiwang_channel", default="system")


def current_ip():
    return _ip.get()


def current_channel():
    return _channel.get()


@contextlib.contextmanager
def request_context(*, ip=None, channel="web"):
    t1, t2 = _ip.set(ip), _channel.set(channel)
    try:
        yield
    finally:
        _ip.reset(t1)
        _channel.reset(t2)
