"""Signals the carrier sends, for feature packages to react to without the carrier knowing them."""

from blinker import Namespace

_signals = Namespace()

#: sent after a logout has been committed, with ``user=`` and ``session_token=`` (the cookie's
#: session token): live lectures close that session's sockets at once
user_logged_out = _signals.signal("user-logged-out")
