"""Exchange and interaction (交流互动): messages between school and family.

Conversations one-to-one, one-to-many (a teacher to the guardians of a class, each reply a
private thread back) and in small groups; who may message whom is one table
(``rules.CONTACT_RULES``) in the permission registry; a message matching its prefecture's keyword
list is held for a reviewer instead of delivered; nothing is ever deleted. The same rooms as a
feature package: ``models``, ``rules``, ``service`` (use cases that flush, never commit),
``queries``, ``api`` (JSON under /api/v1, blueprint ``interaction_api``), ``events`` (the
Socket.IO namespace ``/messages``, documented in ``parents/EVENTS.md``). ``parents.feature()``
registers them.
"""
