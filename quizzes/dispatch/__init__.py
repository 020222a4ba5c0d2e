"""Dispatch (调度): what a county or prefecture sends down the org tree and follows back up.

Today: campaigns (a term exam or a survey sent to grades, schools and roles at once, with
participation, pass and excellent rates per unit and reminders) and anonymous surveys (no row
ever links an answer to a person). The work reports and inspections of the dispatch issue join
them here. The same rooms as a feature package (docs/architecture.md): ``service/`` (use cases
that flush, never commit), ``queries``, ``routes`` (pages, blueprint ``dispatch``), ``api``
(JSON under /api/v1, blueprint ``dispatch_api``), ``forms``, ``templates/dispatch/``, and
``survey_store`` (where an anonymous survey in progress is kept). The models stay in
``quizzes.models`` (``campaign.py``); ``quizzes.feature()`` registers the blueprints.

Dispatch builds on the rest of quizzes (a campaign is a quiz; a survey is answered on the
attempt page); the rest of quizzes reaches into dispatch only to start an anonymous survey and
to count a graded term exam as coverage.
"""
