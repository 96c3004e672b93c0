"""Planning: fixed expansion order and content-hashed job ids."""

from __future__ import annotations

from typing import TYPE_CHECKING

from studio.generate.spec import RunSpec, expand, job_id, plan, replan
from studio.prompts import content_hash

if TYPE_CHECKING:
    from studio.library import Library

SPEC = RunSpec(
    personas=("college", "zh-high-school"),
    topics=("physics/mechanics/newtons-laws",),
    styles=("story", "wikihow"),
    models=("offline/default", "offline/other"),
    samples=3,
)


def test_expansion_order_and_count(library: Library) -> None:
    planned = plan(SPEC, library)
    assert len(planned.jobs) == 2 * 1 * 2 * 2 * 3
    order = [
        (j.prompt.persona_id, j.prompt.style_id, j.model, j.sample_index) for j in planned.jobs
    ]
    assert order[:4] == [
        ("college", "story", "offline/default", 0),
        ("college", "story", "offline/default", 1),
        ("college", "story", "offline/default", 2),
        ("college", "story", "offline/other", 0),
    ]
    assert order[-1] == ("zh-high-school", "wikihow", "offline/other", 2)
    assert len({j.id for j in planned.jobs}) == len(planned.jobs)


def test_job_id_is_the_hash_of_messages_model_params_and_sample(library: Library) -> None:
    job = plan(SPEC, library).jobs[4]
    expected = content_hash(
        {
            "messages": job.prompt.message_dicts(),
            "model": job.model,
            "params": job.params,
            "sample": job.sample_index,
        }
    )
    assert job.id == expected == job_id(job.prompt.message_dicts(), job.model, job.params, 1)
    # The same spec planned again (another process, another machine) gives the same ids.
    assert [j.id for j in plan(SPEC, library).jobs] == [j.id for j in plan(SPEC, library).jobs]


def test_ids_change_with_what_changes_the_output(library: Library) -> None:
    base = {j.id for j in plan(SPEC, library).jobs}
    for changed in (
        RunSpec(**{**SPEC.__dict__, "temperature": 0.3}),
        RunSpec(**{**SPEC.__dict__, "seed": 1}),
        RunSpec(**{**SPEC.__dict__, "max_tokens": 50}),
    ):
        assert not base & {j.id for j in plan(changed, library).jobs}
    # How a run executes is not what it makes: settings leave ids alone.
    faster = SPEC.with_settings(concurrency=64, timeout=5.0, n_per_call=3)
    assert base == {j.id for j in plan(faster, library).jobs}


def test_each_sample_gets_its_own_seed(library: Library) -> None:
    jobs = plan(RunSpec(**{**SPEC.__dict__, "seed": 100}), library).jobs
    assert [j.request_params["seed"] for j in jobs[:3]] == [100, 101, 102]
    assert jobs[0].request_params["max_tokens"] == library.style("story").defaults.max_tokens


def test_replan_from_the_stored_record_gives_the_same_jobs(library: Library) -> None:
    planned = plan(SPEC, library)
    messages = {p.hash: p.message_dicts() for p in planned.prompts}
    again = replan(planned.spec_record(), messages.__getitem__)
    assert [j.id for j in again.jobs] == [j.id for j in planned.jobs]
    assert [j.id for j in expand(SPEC, list(planned.prompts))] == [j.id for j in planned.jobs]
