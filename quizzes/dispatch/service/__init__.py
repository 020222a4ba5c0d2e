"""Dispatch use cases: ``campaigns`` (sending, who may send and follow, survey templates),
``participation`` (rates, who has not taken it, reminders), ``survey_results`` (a survey's
answers counted) and ``surveys`` (anonymous survey sessions and their release)."""
