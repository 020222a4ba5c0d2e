"""The org tree's levels, stated once on the model: a school is path level 3, a grade level 4."""

from __future__ import annotations

import pytest

from elearn.models import Unit

PATHS = {
    "prefecture": "/1/",
    "county": "/1/4/",
    "school": "/1/4/17/",
    "grade": "/1/4/17/23/",
    "class": "/1/4/17/23/99/",
}


@pytest.mark.parametrize(
    ("level", "school_id", "grade_id", "school_path"),
    [
        ("prefecture", None, None, "/1/"),
        ("county", None, None, "/1/4/"),
        ("school", 17, None, "/1/4/17/"),
        ("grade", 17, 23, "/1/4/17/"),
        ("class", 17, 23, "/1/4/17/"),
    ],
)
def test_the_school_and_grade_of_each_level(level, school_id, grade_id, school_path):
    unit = Unit(path=PATHS[level])
    assert unit.school_id == school_id == Unit.school_id_in(PATHS[level])
    assert unit.grade_id == grade_id
    assert unit.school_path == school_path
