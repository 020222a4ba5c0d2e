"""Appointments (约谈): staff publish slots, a guardian books one (or a teacher invites a
guardian to one), both are told and reminded, and a video appointment is a one-to-one WebRTC call
in the browser, its signalling relayed over ``/messages`` between its two parties only.

``service`` holds the rules (who may publish, who may book whose slot, the double booking that
exactly one guardian wins), ``events`` the call's signalling, ``routes`` and ``api`` the pages and
the JSON API. Nothing is deleted: a cancelled appointment keeps its row, with who cancelled and
when.
"""
