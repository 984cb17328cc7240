"""Every ssl.SSLContext made by a test process behaves like stock CPython's.

Debian's python3 turns ssl.OP_IGNORE_UNEXPECTED_EOF on in every new context: a peer that closes a TLS
connection without its close_notify then looks like a clean end of the stream. Stock CPython (python.org,
Windows, macOS, pyenv builds) raises ssl.SSLEOFError instead, and so must the tests: a server that
truncates TLS must fail them. Importing this module (tests/integration/conftest.py does, so every test
of the suite, and the interop tests, have it) clears the option in every context made afterwards,
whoever makes it (tls_helpers.client_context, ftplib.FTP_TLS's own default, aioftp, asyncio).
"""
import ssl


def stock(ctx: ssl.SSLContext) -> ssl.SSLContext:
    """`ctx` without OP_IGNORE_UNEXPECTED_EOF (as stock CPython makes it)."""
    ctx.options &= ~ssl.OP_IGNORE_UNEXPECTED_EOF
    return ctx


def _stock_new(cls, *args, **kwargs):
    return stock(ssl.SSLContext._debian_new(cls, *args, **kwargs))


if not hasattr(ssl.SSLContext, "_debian_new"):  # once per process, however often this is imported
    ssl.SSLContext._debian_new = ssl.SSLContext.__new__
    ssl.SSLContext.__new__ = _stock_new
