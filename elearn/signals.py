"""Signals the carrier sends, for feature packages to react to without the carrier knowing them."""

from blinker import Namespace

_signals = Namespace()

#: sent after a logout has been committed, with ``user=`` and ``session_token=`` (the cookie's
#: session token): live lectures close that session's sockets at once
user_logged_out = _signals.signal("user-logged-out")

#: sent after a password change (or an admin's reset) has been committed, with ``user=`` and
#: ``kept_key=``: the hash (``accounts.hash_token``) of the session or API token of the request
#: that changed it, which stays signed in, or None when every one ended (a reset). Live lectures
#: close every other socket of that user at once.
password_changed = _signals.signal("password-changed")
