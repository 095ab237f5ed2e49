"""The one seam for Rasa's internals (bot/rasa_compat.py): every private name listed, present, and guarded."""
from __future__ import annotations

import ast
import importlib
import logging
import re
from pathlib import Path

import pytest
import rasa
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import Event

from bot import rasa_compat, rasa_speedups
from bot.channels.web import GuardedRestInput
from bot.settings import PROJECT_ROOT
from bot.tracker_store import InMemorySlotVault, RedactingSQLTrackerStore

PROJECT_CODE = ("bot", "actions", "scripts")
RASA_SOURCE = Path(rasa.__file__).parent
_RASA_PRIVATE = re.compile(r"(?:def\s+|\.|^\s+)(_[A-Za-z]\w*)\s*[(=:]", re.MULTILINE)


def resolve(dotted: str) -> object:
    """The object a "module.Class.attribute" name points to in the installed Rasa."""
    parts = dotted.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:split]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[split:]:
            found = getattr(found, attribute)
        return found
    raise ModuleNotFoundError(dotted)


def rasa_private_names() -> set[str]:
    """Every private name Rasa's own source defines or assigns (functions, methods, attributes)."""
    names: set[str] = set()
    for path in RASA_SOURCE.rglob("*.py"):
        names.update(n for n in _RASA_PRIVATE.findall(path.read_text(errors="replace")) if not n.startswith("__"))
    return names


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _rasa_imports(tree: ast.Module) -> set[str]:
    return {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "rasa"
        for alias in node.names
    }


def _project_module_names(tree: ast.Module) -> set[str]:
    """Names a file binds to the project's own modules (``from bot import rasa_speedups``)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in PROJECT_CODE:
            names.update(alias.asname or alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.asname or alias.name for alias in node.names if alias.name.split(".")[0] in PROJECT_CODE)
    return names


def _base_names(node: ast.ClassDef) -> set[str]:
    return {base.id if isinstance(base, ast.Name) else getattr(base, "attr", "") for base in node.bases}


def private_rasa_names_touched() -> dict[str, set[str]]:
    """Per project file, the private names it reaches in Rasa: attributes it reads, calls or assigns that
    Rasa defines and the project does not, and methods of Rasa subclasses that override Rasa's private ones."""
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for d in PROJECT_CODE
             for path in sorted((PROJECT_ROOT / d).rglob("*.py"))}
    own: set[str] = set()  # private names the project defines itself
    for tree in trees.values():
        rasa_bases = _rasa_imports(tree)
        for node in ast.walk(tree):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
                node, ast.AnnAssign) else []
            for target in targets:
                if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id in (
                        "self", "cls"):
                    own.add(target.attr)
            if isinstance(node, ast.ClassDef) and not _base_names(node) & rasa_bases:
                own.update(item.name for item in node.body if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef))
    rasa_names = rasa_private_names()
    touched: dict[str, set[str]] = {}
    for path, tree in trees.items():
        rasa_bases = _rasa_imports(tree)
        project_modules = _project_module_names(tree)
        used: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and _private(node.attr):
                if not (isinstance(node.value, ast.Name) and node.value.id in project_modules):
                    used.add(node.attr)
            if isinstance(node, ast.ClassDef) and _base_names(node) & rasa_bases:
                used.update(item.name for item in node.body
                            if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and _private(item.name))
        hits = (used - own) & rasa_names
        if hits:
            touched[str(path.relative_to(PROJECT_ROOT))] = hits
    return touched


def test_every_private_rasa_name_the_code_touches_is_listed_in_the_seam():
    listed = {name.rsplit(".", 1)[1] for name in rasa_compat.PRIVATE_NAMES}
    touched = private_rasa_names_touched()
    unlisted = {path: sorted(names - listed) for path, names in touched.items() if names - listed}
    assert not unlisted, f"add these to bot/rasa_compat.PRIVATE_NAMES (and guard them): {unlisted}"
    # The scan sees what the seam names: the tracker store's hooks, the REST hooks and the speed fix.
    assert set().union(*touched.values()) == listed


@pytest.mark.parametrize(
    "name", sorted({*rasa_compat.PRIVATE_NAMES, *rasa_compat.PATCHED_NAMES, *rasa_compat.COPIED_NAMES})
)
def test_each_listed_name_still_exists_on_the_installed_rasa(name):
    assert callable(resolve(name)), name


def test_the_installed_rasa_is_the_supported_release():
    assert rasa.__version__ == rasa_compat.SUPPORTED_RASA_VERSION
    assert rasa_compat.is_supported()
    assert not rasa_compat.is_supported("3.6.20") and not rasa_compat.is_supported("3.7.0")


@pytest.fixture
def rasas_own_code(monkeypatch):
    """Rasa's own implementations back in place (the speed fixes may already be installed by an import)."""
    monkeypatch.setattr(RemoteAction, "_validate_action_result", "rasa's own validation")
    monkeypatch.setattr(Event, "resolve_by_type", "rasa's own resolution")


@pytest.mark.usefixtures("rasas_own_code")
def test_on_the_supported_release_the_speed_fixes_are_installed():
    assert rasa_compat.apply() is True
    assert RemoteAction._validate_action_result is rasa_speedups._validate_action_result
    assert Event.resolve_by_type is rasa_speedups._resolve_event_type


@pytest.mark.usefixtures("rasas_own_code")
def test_on_another_release_the_speed_fixes_are_left_out_with_a_clear_log_line(monkeypatch, caplog):
    monkeypatch.setattr(rasa, "__version__", "3.7.0")
    with caplog.at_level(logging.ERROR, logger="bot.rasa_compat"):
        assert rasa_compat.apply() is False
    assert RemoteAction._validate_action_result == "rasa's own validation"
    assert Event.resolve_by_type == "rasa's own resolution"
    assert "Rasa version (3, 7, 0) is installed" in caplog.text and "NOT applied" in caplog.text


def test_on_another_release_the_redacting_store_and_the_checked_channel_refuse_to_start(monkeypatch, tmp_path, caplog):
    monkeypatch.setattr(rasa, "__version__", "3.7.0")
    with pytest.raises(rasa_compat.UnsupportedRasaVersion, match=r"RedactingSQLTrackerStore\) refuses to run"):
        RedactingSQLTrackerStore(host=f"sqlite:///{tmp_path / 'tracker.db'}", slot_vault=InMemorySlotVault(60))
    with pytest.raises(rasa_compat.UnsupportedRasaVersion, match=r"GuardedRestInput\) refuses to run"):
        GuardedRestInput().blueprint(lambda message: None)
    assert "written for Rasa version (3, 6, 21)" in caplog.text
