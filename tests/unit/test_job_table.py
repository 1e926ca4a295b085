"""The job table: every kind of job has its row, and arq knows each under its kind's name
(the name queued jobs carry, so a rename would strand them)."""

from __future__ import annotations

from engine.worker.jobs import JOBS, JobKind, functions


def test_every_kind_of_job_has_its_row() -> None:
    assert set(JOBS) == set(JobKind)


def test_arq_runs_each_kind_under_its_name() -> None:
    names = [f.name for f in functions(timeout_s=20, max_tries=2)]
    assert names == [kind.value for kind in JobKind]
    assert "answer_mention" in names and "drain_case" in names
