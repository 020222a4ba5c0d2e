"""Announcements (通知) cascading prefecture → county → school → class, with receipts.

A level sends an announcement to units below it (everyone, or one role: admins, teachers,
students, guardians); each recipient gets a receipt row (delivered, read, acknowledged) and a
notice in their inbox (and on the channels they chose). A recipient admin or teacher may forward
it downward with a note of their own. The sender, and the admins above the sending unit, read the
receipts per child unit. See ``service`` for the rules and ``queries`` for the counts.
"""
