"""Scenes: what a code is for (``login``, ``register``, ``resetPassword``...).

A scene name is 1-32 characters of ASCII letters, digits, ``_`` and ``-``
(:data:`SCENE_PATTERN`), so it is safe in a Redis key, a log line and a token
claim. ``SMS_SCENES`` lists the allowed scenes (:mod:`smsverify.settings.config`);
each SMS provider maps every allowed scene to its own template with a
variable of the same form (:func:`read_scene_map`). Unset everywhere, the one
scene is :data:`DEFAULT_SCENE` with the provider's single template, as before
scenes existed.

This module is a leaf: it imports nothing of the package but the
environment reader's type.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from smsverify.settings.env import EnvReader

#: The scene of a request that names none, and the only scene when ``SMS_SCENES`` is unset.
DEFAULT_SCENE = "login"
#: A scene name: letters, digits, ``_``, ``-``; 1 to 32 characters.
SCENE_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,32}")
#: Separates the entries of a scene list whose values are template ids.
ENTRY_SEPARATOR = ","
#: Separates the entries of a scene list whose values are template texts (which may hold commas).
TEXT_ENTRY_SEPARATOR = "|"


def is_scene_name(text: str) -> bool:
    """Whether ``text`` is a valid scene name (:data:`SCENE_PATTERN`)."""
    return SCENE_PATTERN.fullmatch(text) is not None


def read_scene_map(
    reader: EnvReader, name: str, *, separator: str = ENTRY_SEPARATOR, value_required: bool = True
) -> dict[str, str] | None:
    """Variable ``name`` as ``{scene: value}``, in the order written; ``None`` when unset.

    The form is ``scene:value`` entries joined by ``separator``, e.g.
    ``login:1234567,register:1234568``. The value is everything after the
    first ``:`` of an entry (a scene name holds no ``:``), surrounding spaces
    removed. With ``value_required=False`` an entry may be a bare scene name
    (value ``""``). A malformed entry, a bad scene name, a scene given twice
    or an empty value is recorded on ``reader`` (then ``{}`` is returned).
    """
    raw = reader.text(name)
    if raw is None:
        return None
    scenes: dict[str, str] = {}
    for entry in raw.split(separator):
        entry = entry.strip()
        if not entry:
            continue
        scene, colon, value = entry.partition(":")
        scene, value = scene.strip(), value.strip()
        if not is_scene_name(scene):
            reader.problem(name, f"{scene[:40]!r} is not a scene name (letters, digits, _ or -, at most 32)")
            return {}
        if scene in scenes:
            reader.problem(name, f"names scene {scene!r} twice")
            return {}
        if value_required and (not colon or not value):
            reader.problem(name, f"entry {scene!r} has no value: write scene:value entries joined by {separator!r}")
            return {}
        scenes[scene] = value
    if not scenes:
        reader.problem(name, f"lists no scene: write scene:value entries joined by {separator!r}")
    return scenes


def provider_scene_map(
    reader: EnvReader,
    name: str,
    scenes: tuple[str, ...],
    default: str | None,
    *,
    separator: str = ENTRY_SEPARATOR,
    fallback_variable: str = "",
) -> dict[str, str]:
    """A provider's template for every allowed scene, from its variable ``name``.

    ``scenes`` are the allowed scenes (``SMS_SCENES``); ``default`` the
    provider's single template (e.g. ``RONGLIAN_TEMPLATE_ID``), used for
    :data:`DEFAULT_SCENE` when ``name`` does not list it, or ``None``. A
    scene of ``scenes`` with no template, or a scene in ``name`` that
    ``SMS_SCENES`` does not allow, is recorded on ``reader`` naming ``name``.
    """
    given = read_scene_map(reader, name, separator=separator)
    templates: dict[str, str] = {}
    for scene, value in (given or {}).items():
        if scene not in scenes:
            reader.problem(name, f"names scene {scene!r}, which SMS_SCENES does not allow ({', '.join(scenes)})")
            return templates
        templates[scene] = value
    if given == {}:  # malformed, already recorded
        return templates
    missing = []
    for scene in scenes:
        if scene in templates:
            continue
        if scene == DEFAULT_SCENE and default:
            templates[scene] = default
        else:
            missing.append(scene)
    if missing:
        also = f" (or {fallback_variable} for {DEFAULT_SCENE!r})" if fallback_variable and DEFAULT_SCENE in missing else ""
        reader.problem(name, f"has no template for scene(s) {', '.join(missing)}: add scene:template entries{also}")
    return templates
