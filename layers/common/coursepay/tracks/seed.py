"""Seeding the track catalogue from its data file: an upsert per track, with an audit entry for every track
that is new or changed (prices included). Run by the local stack's seed step and, against AWS, by an operator:

    PYTHONPATH=layers/common python -m coursepay.tracks.seed --courses-table <CoursesTable> \\
        --audit-table <AuditTable> [--file my-tracks.json] [--dry-run]
"""

from __future__ import annotations

import argparse
import json
from importlib import resources
from pathlib import Path

from coursepay.storage.audit import AuditEntry, AuditTrail
from coursepay.tracks.catalogue import Track, TrackCatalogue, TracksRepository, from_item

DEFAULT_DATA = "tracks.json"


def load_catalogue(path: str | Path | None = None) -> TrackCatalogue:
    """The catalogue from ``path`` (default: the data file shipped in this package), validated."""
    if path is None:
        text = resources.files("coursepay.tracks").joinpath("data", DEFAULT_DATA).read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    return TrackCatalogue.model_validate(json.loads(text))


def seed_tracks(courses_table: str, audit_table: str | None = None, *, catalogue: TrackCatalogue | None = None,
                actor: str = "system:seed", dry_run: bool = False) -> list[str]:
    """Upsert every track of ``catalogue``; returns the ids of the tracks that were new or changed."""
    repository = TracksRepository(courses_table)
    audit = AuditTrail(audit_table) if audit_table else None
    changed: list[str] = []
    for track in (catalogue or load_catalogue()).tracks:
        raw = repository.get_raw(track.track_id)
        before: Track | None = from_item(raw) if raw else None
        if before == track:
            continue
        changed.append(track.track_id)
        if dry_run:
            continue
        repository.put(track)
        if audit is not None:
            audit.record(AuditEntry(
                entity=f"track#{track.track_id}", action="track.created" if before is None else "track.updated",
                actor=actor, before=before.model_dump(mode="json") if before else None,
                after=track.model_dump(mode="json")))
    return changed


def seed_in_function(_: object = None) -> list[str]:
    """The local stack's seed step (runs with PaymentsFunction's environment: its table names)."""
    from coursepay.settings import load_settings
    from coursepay.tracks.settings import PaymentsSettings

    settings = load_settings(PaymentsSettings)
    return seed_tracks(settings.courses_table, settings.audit_table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Seed (upsert) the track catalogue into the courses table.")
    parser.add_argument("--courses-table", required=True, help="physical name of CoursesTable")
    parser.add_argument("--audit-table", help="physical name of AuditTable (records every change)")
    parser.add_argument("--file", help="catalogue JSON (default: the data file shipped with coursepay.tracks)")
    parser.add_argument("--dry-run", action="store_true", help="only list what would change")
    args = parser.parse_args(argv)
    changed = seed_tracks(args.courses_table, args.audit_table, catalogue=load_catalogue(args.file),
                          actor="system:seed-cli", dry_run=args.dry_run)
    print(json.dumps({"changed": changed, "dry_run": args.dry_run}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
