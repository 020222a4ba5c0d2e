"""Care files (关爱帮教档案, 一人一档): termly screening of dropouts and at-risk students, and one
file per person that only its caseworkers, the school's designated admin and (after handover)
the county drug-control office may open.

Everyone else, a prefecture admin included, gets a 404 and sees counts by county, school and
status without names (``queries.counts``). Every read and change of a file is a row of its
append-only access log. The free text (the risk narrative, the notes, each follow-up's notes and
next step) is encrypted at rest with the keys of ``ELEARN_CARE_KEYS`` (``crypto``). Exports need
a second admin's approval and download once; closed files are purged after
``ELEARN_CARE_PURGE_DAYS`` (a beat task). See ``service`` for the rules.
"""
