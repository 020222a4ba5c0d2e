"""Guardians and their children (家长与孩子): invite codes, the child view, the weekly digest.

Besides the roster's links (``elearn.models.GuardianLink``), a teacher of a student's class (or an
admin over it) issues a one-use invite code with a QR, valid 7 days; a signed-in guardian redeems
it with the child's name and their relation. The link is made at once when the guardian's phone
is one the school has for that student (the roster's guardians, or the phone the teacher wrote on
the invite), else it waits for the school to confirm it. Only the code's hash is stored.

The child view shows, for each linked child, the course progress the courses package counts, the
quiz and exam results as each quiz's review policy allows, upcoming lectures (through the
``elearn.person_agenda`` extension point, which live answers: parents never imports live), due
quizzes and the school's announcements. A guardian opening the child's course page sees the
child's progress read-only (``courses.progress_viewers``).
"""
