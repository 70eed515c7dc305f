"""Shared helpers of the built-in plugins' fixture scripts (plugins/<plugin>/scripts/make-fixtures.py).

The deployment, cloneset, statefulset, ingress and httproute plugins each have a script that
spells out their golden fixtures by hand and writes them to the plugin's fixtures/ directory,
which its tests/fixtures.rs runs. What those scripts do in exactly the same way lives here, so
that it is written once: how the fixture files are written (their format is committed, so every
plugin must write it byte for byte alike), and the few builders of the fixture format whose
output is the same everywhere. The Kubernetes objects and contexts each script builds differ
from plugin to plugin (fields, defaults, names), so they stay in the scripts.

A script imports this module by putting plugins/ on sys.path, relative to its own file. The
example plugins (plugins/examples/) do not use it: each of them is meant to be copied out of the
repository on its own, so their scripts stay self-contained.

Standard library only (Python 3.11).
"""

import json
import os
import pathlib


def write_fixtures(fixtures_dir, cases):
    """Replaces the fixtures in `fixtures_dir` by `cases`: one `<name>.json` per case.

    Every *.json already there is deleted first, so a case removed from a script loses its file.
    The files are the cases as JSON, indented by one space, non-ASCII characters kept, with a
    final newline. The environment variable FIXTURES_OUT, when set, names another directory to
    write to (scripts/check-fixtures.sh compares that with the committed fixtures).
    """
    fixtures_dir = pathlib.Path(os.environ.get("FIXTURES_OUT") or fixtures_dir)
    fixtures_dir.mkdir(parents=True, exist_ok=True)
    for old in fixtures_dir.glob("*.json"):
        old.unlink()
    for name, fixture in cases.items():
        text = json.dumps(fixture, indent=1, ensure_ascii=False) + "\n"
        (fixtures_dir / f"{name}.json").write_text(text, encoding="utf-8")
    print(f"wrote {len(cases)} fixtures to {fixtures_dir}")


def ok(value):
    """An expected answer that succeeds with `value`."""
    return {"ok": value}


def err(kind, fragment):
    """An expected error of `kind` whose message contains `fragment`."""
    return {"err": {kind: fragment}}


def objects(workload, *related):
    """A workload plugin's objects argument: the workload and the objects related to it."""
    return {"workload": workload, "related": list(related)}


def batch_status(updated, ready, message=""):
    """A check-batch answer (batch-status): ready exactly when there is no message to wait on."""
    return {"updated-replicas": updated, "updated-ready-replicas": ready, "ready": not message, "message": message}
