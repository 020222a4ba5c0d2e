"""The feature contract: what a package adds to the carrier, declared once and checked at start-up.

The carrier (``elearn``) knows no feature package. Each package describes what it brings in one
``Feature``: its blueprints, menu entries, home panels, demo seeders, readiness checks, permission
rules, audit vocabulary, periodic tasks, settings, the signals it listens to and what it
contributes to other packages' extension points. Its ``init_app(app)`` hands that declaration to
``register``, which validates it (names unique, every setting read and checked, every contribution
aimed at a point that exists) and wires it into the app's ``Registry``
(``app.extensions["elearn.features"]``), where the carrier's pages, permissions, CLI and Celery
read it. Nothing appends to module-level lists; a second app (a test) gets a registry of its own.

Extension points let a lower package be extended by a higher one without knowing it: the lower
package declares the point (``ExtensionPoint("courses.lesson_completion")``), a higher one
contributes callables to it in its ``Feature.hooks``, and the lower one asks ``hooks(point)``.

Settings (``elearn.config.Setting``) are read from ``ELEARN_<KEY>`` when the feature registers,
parsed and checked: a value that cannot work stops the start with a message naming the variable
and what it takes (``ConfigError``), all such messages at once. A key already in the app's config
(a test's override) is checked, not read again.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Flask, current_app

from elearn.config import ConfigError, Setting, read_settings

Rule = Callable[[Any, str, Any], bool]
NavProvider = Callable[[Any], list[tuple[str, str]]]
PanelProvider = Callable[[Any], list[tuple[str, dict[str, Any]]]]
ReadinessCheck = Callable[[], "str | None"]

EXTENSION = "elearn.features"
#: where ``elearn.api`` leaves the function that registers an API blueprint with the document
API_REGISTRAR = "elearn.api.register"


# --- extension points ------------------------------------------------------------------------------

#: every point declared, by name (declared at import time by the package that asks it)
POINTS: dict[str, ExtensionPoint] = {}


@dataclass(frozen=True)
class ExtensionPoint:
    """A place where a lower package asks what higher ones contribute (``hooks``)."""

    name: str
    doc: str = ""

    def __post_init__(self) -> None:
        POINTS[self.name] = self


# --- the declaration -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Feature:
    """What a package adds to the carrier (see the module's docstring)."""

    name: str
    #: pages (Flask blueprints), registered in this order
    blueprints: Sequence[Blueprint] = ()
    #: JSON API blueprints, registered with the API (its OpenAPI document)
    api: Sequence[Any] = ()
    #: (user) -> [(endpoint, label)]: the menu entries this user gets
    nav: NavProvider | None = None
    #: (user) -> [(template, context)]: the home page's panels this user gets
    home_panel: PanelProvider | None = None
    #: run after the carrier's demo seed, in order (idempotent)
    seeders: Sequence[Callable[[], Any]] = ()
    #: named checks for /readyz: None when ready, else what is wrong
    readiness: Mapping[str, ReadinessCheck] = field(default_factory=dict)
    #: model class -> rule (actor, action, object) -> bool, for ``elearn.permissions``
    rules: Mapping[type, Rule] = field(default_factory=dict)
    #: audit action codes (or code prefixes ending in ".") -> label
    audit_actions: Mapping[str, Any] = field(default_factory=dict)
    #: audit target type -> (label, describer) for the audit log
    audit_targets: Mapping[str, tuple[Any, Callable[..., Any]]] = field(default_factory=dict)
    #: Celery beat entries, by name
    beat: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: config this package reads, checked at start-up
    settings: Sequence[Setting] = ()
    #: (config) -> problems: a rule across settings (one bounded by another)
    check: Callable[[Mapping[str, Any]], list[str]] | None = None
    #: (signal, receiver): connected for this app (the receiver gets ``sender=app``)
    signals: Sequence[tuple[Any, Callable[..., Any]]] = ()
    #: extension point name -> callables contributed to it
    hooks: Mapping[str, Sequence[Callable[..., Any]]] = field(default_factory=dict)
    #: Jinja globals the package's templates use
    template_globals: Mapping[str, Any] = field(default_factory=dict)
    #: what a declaration can't say (a Socket.IO namespace's state, WSGI middleware), run last
    setup: Callable[[Flask], Any] | None = None


@dataclass
class Registry:
    """What the registered features add, for this app (``registry()``)."""

    features: list[Feature] = field(default_factory=list)
    rules: dict[type, Rule] = field(default_factory=dict)
    nav: list[NavProvider] = field(default_factory=list)
    home_panels: list[PanelProvider] = field(default_factory=list)
    seeders: list[Callable[[], Any]] = field(default_factory=list)
    readiness: dict[str, ReadinessCheck] = field(default_factory=dict)
    audit_actions: dict[str, Any] = field(default_factory=dict)
    audit_targets: dict[str, tuple[Any, Callable[..., Any]]] = field(default_factory=dict)
    beat: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    settings: dict[str, Setting] = field(default_factory=dict)
    hooks: dict[str, list[Callable[..., Any]]] = field(default_factory=dict)


def registry(app: Flask | None = None) -> Registry:
    """The app's registry (the current app's by default)."""
    target = app if app is not None else current_app
    found = target.extensions.get(EXTENSION)
    if found is None:
        found = target.extensions[EXTENSION] = Registry()
    return found


def hooks(point: str) -> list[Callable[..., Any]]:
    """What the registered features contribute to an extension point (declared or not)."""
    return registry().hooks.get(point, [])


def register(app: Flask, feature: Feature, *, environ: Mapping[str, str] | None = None) -> None:
    """Validate a feature's declaration and wire it into the app; raise ``ConfigError`` with every
    problem found (a setting that cannot work, a name taken twice, a hook with no point)."""
    found = registry(app)
    problems = _problems(app, found, feature)
    problems += read_settings(
        feature.settings, app.config, os.environ if environ is None else environ
    )
    if not problems and feature.check is not None:
        problems += feature.check(app.config)
    if problems:
        raise ConfigError(f"The {feature.name} feature cannot start: " + " ".join(problems))
    found.features.append(feature)
    found.settings.update({setting.key: setting for setting in feature.settings})
    found.rules.update(feature.rules)
    if feature.nav is not None:
        found.nav.append(feature.nav)
    if feature.home_panel is not None:
        found.home_panels.append(feature.home_panel)
    found.seeders.extend(feature.seeders)
    found.readiness.update(feature.readiness)
    found.audit_actions.update(feature.audit_actions)
    found.audit_targets.update(feature.audit_targets)
    for point, contributed in feature.hooks.items():
        found.hooks.setdefault(point, []).extend(contributed)
    _schedule(app, found, feature.beat)
    for blueprint in feature.blueprints:
        app.register_blueprint(blueprint)
    for blueprint in feature.api:
        app.extensions[API_REGISTRAR](app, blueprint)
    app.jinja_env.globals.update(feature.template_globals)
    for signal, receiver in feature.signals:
        signal.connect(receiver, sender=app, weak=False)
    if feature.setup is not None:
        feature.setup(app)


def _problems(app: Flask, found: Registry, feature: Feature) -> list[str]:
    problems = []
    if any(known.name == feature.name for known in found.features):
        problems.append(f"a feature named {feature.name} is registered already.")
    for setting in feature.settings:
        if setting.key in found.settings:
            problems.append(f"the setting {setting.key} is declared by another feature.")
    for model in feature.rules:
        if model in found.rules:
            problems.append(f"{model.__name__} has a permission rule already.")
    for name in feature.readiness:
        if name in found.readiness:
            problems.append(f"a readiness check named {name} exists already.")
    for name in feature.beat:
        if name in found.beat:
            problems.append(f"a periodic task named {name} exists already.")
    for point in feature.hooks:
        if point not in POINTS:
            problems.append(f"it contributes to {point}, which no package declares.")
    if feature.api and API_REGISTRAR not in app.extensions:
        problems.append("it has API routes, but the API is not set up (elearn.api.init_app).")
    return problems


def _schedule(app: Flask, found: Registry, beat: Mapping[str, Mapping[str, Any]]) -> None:
    """One beat schedule: the app's Celery config and its Celery app (if made) both get it."""
    if not beat:
        return
    found.beat.update(beat)
    app.config.setdefault("CELERY", {}).setdefault("beat_schedule", {}).update(beat)
    celery_app = app.extensions.get("celery")
    if celery_app is not None:
        celery_app.conf.beat_schedule = {**(celery_app.conf.beat_schedule or {}), **beat}
