"""The whole public API, fuzzed (property-based, with hypothesis).

Every public construct of ``constructs_lib`` is built from a valid baseline with one property
(or one field of a value class) replaced by a generated value around the edges of the service
models (``tests/fuzz_support.py`` says how the values are made). Each case must either be
rejected with a ``ValueError`` naming ``Fuzz/Subject`` and the property, or synthesize through the
four cdk-nag packs into a template that passes cfn-lint. Anything else is a library defect; known
ones wait in ``KNOWN_DEFECTS`` for their fix.

Each (construct, property) pair is a test of its own, so every property is fuzzed in every run.
Profiles: the default (CI) profile is derandomized (the same cases on every run), runs 3 cases per
property, synthesizes at most ``CI_SYNTH_CAP`` of each construct's cases that build, and re-runs
the reproduction of one known defect per construct. For a long run outside CI (about an hour),
``HYPOTHESIS_PROFILE=fuzz`` draws 40 cases per property at random, synthesizes every case that
builds, and re-runs every known defect's reproduction (a fixed one fails: remove its entry)::

    HYPOTHESIS_PROFILE=fuzz pytest -q -p no:cacheprovider tests/checks/test_fuzz_public_api.py

The figures (cases per construct, rejected, synthesized) are printed in the gate report at the
end of ``make test`` (``tests/gate_report.py``).
"""

from __future__ import annotations

import dataclasses
import inspect
import os
from pathlib import Path

import aws_cdk as cdk
import constructs
import pytest
from hypothesis import HealthCheck, assume, given, settings

import constructs_lib
from constructs_lib import ConstructValidationError
from tests.conftest import assert_cfn_lint_clean
from tests.fuzz_support import (
    KNOWN_DEFECTS,
    SUBJECT_PATH,
    SUBJECTS,
    VALUE_CLASSES,
    KnownDefect,
    Mutation,
    PropertyViolationError,
    Subject,
    Tally,
    check_construction,
    prop,
    run_case,
)
from tests.gate_report import report

CI_PROFILE = "fuzz-ci"
FUZZ_PROFILE = "fuzz"
_HEALTH = [
    HealthCheck.too_slow,
    HealthCheck.function_scoped_fixture,
    HealthCheck.data_too_large,
    HealthCheck.filter_too_much,
]
#: Cases per (construct, property): every property is fuzzed in every run.
settings.register_profile(
    CI_PROFILE,
    max_examples=3,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=_HEALTH,
)
settings.register_profile(
    FUZZ_PROFILE, max_examples=40, deadline=None, suppress_health_check=_HEALTH
)
PROFILE = FUZZ_PROFILE if os.environ.get("HYPOTHESIS_PROFILE") == FUZZ_PROFILE else CI_PROFILE
#: Cases synthesized per construct in the CI profile (the fuzz profile synthesizes them all).
CI_SYNTH_CAP = 3
#: A known hang is reported after this long (a construction takes about a second).
REPRODUCTION_TIME_LIMIT_SECONDS = 10

_TALLIES: dict[str, Tally] = {}
_SECTION = "Fuzzed public API"


def _report() -> None:
    lines = [
        f"profile {PROFILE}; {len(KNOWN_DEFECTS)} known defects waiting for a fix "
        "(tests/fuzz_support.py KNOWN_DEFECTS)"
    ]
    lines += [
        tally.line(subject.name, len(subject.props))
        for subject in SUBJECTS
        if (tally := _TALLIES.get(subject.name)) is not None
    ]
    total = Tally()
    for tally in _TALLIES.values():
        total.cases += tally.cases
        total.rejected += tally.rejected
        total.synthesized += tally.synthesized
        total.built += tally.built
        total.known += tally.known
    lines.append(
        f"total: {total.cases} cases, {total.rejected} rejected, {total.synthesized} synthesized, "
        f"{total.built} built, {total.known} known defects skipped"
    )
    report(_SECTION, lines)
    print("\n".join(lines))


@pytest.fixture(scope="module")
def lint_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where every synthesized case's template waits for the one cfn-lint run."""
    return tmp_path_factory.mktemp("fuzz-lint")


# ---- the fuzzer covers the whole public API ---------------------------------------------------


def _public(kind: type) -> set[type]:
    exported = (getattr(constructs_lib, name) for name in constructs_lib.__all__)
    return {o for o in exported if isinstance(o, type) and issubclass(o, kind)}


def test_every_public_construct_is_fuzzed() -> None:
    # GIVEN the constructs the package exports
    public = _public(constructs.Construct)
    # WHEN we list the fuzzed ones
    fuzzed = {subject.construct for subject in SUBJECTS}
    # THEN they are the same
    assert fuzzed == public


def test_every_prop_of_every_public_construct_is_fuzzed() -> None:
    for subject in SUBJECTS:
        # GIVEN a construct's keyword properties
        parameters = inspect.signature(vars(subject.construct)["__init__"]).parameters
        props = {p for p, v in parameters.items() if v.kind is inspect.Parameter.KEYWORD_ONLY}
        # WHEN we list the properties its cases set
        fuzzed = {Mutation(p, None).top for p in subject.props}
        # THEN every property is set by some case
        assert fuzzed == props, subject.name


def test_every_field_of_every_public_value_class_is_fuzzed() -> None:
    # GIVEN the value classes the package exports (dataclasses)
    public = {c for c in _public(object) if dataclasses.is_dataclass(c)}
    assert set(VALUE_CLASSES) == public
    # WHEN we collect the fields the dotted props reach
    reached = {
        part
        for subject in SUBJECTS
        for path in subject.props
        for part in path.replace("[", ".[").split(".")[1:]
    }
    # THEN every field of every value class is reached
    for value_class in VALUE_CLASSES:
        missing = {f.name for f in dataclasses.fields(value_class)} - reached
        assert not missing, f"{value_class.__name__}: {sorted(missing)}"


# ---- the property ----------------------------------------------------------------------------


_PROPS = [(subject, name) for subject in SUBJECTS for name in sorted(subject.props)]


@pytest.mark.parametrize(
    ("subject", "prop_name"), _PROPS, ids=[f"{s.name}.{name}" for s, name in _PROPS]
)
def test_public_construct_rejects_cleanly_or_synthesizes(
    subject: Subject, prop_name: str, lint_dir: Path, tmp_path: Path
) -> None:
    profile = settings.get_profile(PROFILE)
    cap = CI_SYNTH_CAP if PROFILE == CI_PROFILE else None
    tally = _TALLIES.setdefault(subject.name, Tally())

    # GIVEN the construct's baseline with this property set to a generated value
    @settings(profile)
    @given(mutation=subject.mutations(prop_name))
    def case(mutation: Mutation) -> None:
        # WHEN it is built (and, if that succeeds, synthesized with cdk-nag)
        # THEN it is rejected with a ValueError naming the path and the property, or its
        # template is collected for cfn-lint; anything else raises PropertyViolationError
        outcome = run_case(
            subject,
            mutation,
            workdir=tmp_path,
            lint_dir=lint_dir,
            synthesize=cap is None or tally.synthesized < cap,
            tally=tally,
            known_defects=KNOWN_DEFECTS,
        )
        # a known defect's case is not checked: let hypothesis draw another instead
        assume(outcome != "known")

    try:
        case()
    finally:
        _report()


def test_synthesized_cases_pass_cfn_lint(lint_dir: Path) -> None:
    # GIVEN the templates of every case that built and synthesized (collected above)
    templates = sorted(lint_dir.glob("*.template.json"))
    if not templates:
        pytest.skip("no fuzz case synthesized in this session (run the whole module)")
    # WHEN cfn-lint checks them all at once THEN it finds nothing
    try:
        assert_cfn_lint_clean(lint_dir)
    except AssertionError as error:
        cases = "\n".join(f"{path.name}: {Path(f'{path}.case').read_text()}" for path in templates)
        raise AssertionError(f"{error}\ncases:\n{cases}") from None


# ---- known defects are real until fixed ----------------------------------------------------------


def _subject(name: str) -> Subject:
    return next(s for s in SUBJECTS if s.name == name)


def _reproductions() -> list[KnownDefect]:
    """Every known defect under the fuzz profile; in CI (where each costs a construction, some a
    synthesis) the first of each construct, so a fix of that one is noticed at once."""
    if PROFILE == FUZZ_PROFILE:
        return list(KNOWN_DEFECTS)
    firsts: dict[str, KnownDefect] = {}
    for defect in KNOWN_DEFECTS:
        firsts.setdefault(defect.construct, defect)
    return list(firsts.values())


@pytest.mark.parametrize(
    "defect", _reproductions(), ids=lambda d: f"{d.construct}.{d.prop}={d.example!r}"[:80]
)
def test_known_defects_still_reproduce(defect: KnownDefect, tmp_path: Path) -> None:
    # GIVEN a known defect's reproduction, which its own predicate matches
    mutation = Mutation(defect.prop, defect.example)
    assert defect.applies(defect.construct, mutation)
    # WHEN the case runs without the known-defect list
    # THEN it still breaks the property (once the library is fixed, remove the entry)
    with pytest.raises(PropertyViolationError):
        run_case(
            _subject(defect.construct),
            mutation,
            workdir=tmp_path,
            lint_dir=None,
            synthesize=True,
            tally=Tally(),
            known_defects=(),
            time_limit=REPRODUCTION_TIME_LIMIT_SECONDS,
        )


# ---- the checker fails on what it must catch (a check that cannot fail is a defect) -------------


def _mutation() -> Mutation:
    return Mutation("output_config.role", "not-a-role")


def _raising(error: Exception) -> None:
    raise error


def test_a_value_error_naming_path_and_property_counts_as_rejected() -> None:
    # GIVEN a construction failing as the library's own validation does
    error = ConstructValidationError(SUBJECT_PATH, "output_config.role", "x", "must be a role")
    # WHEN it is checked THEN it is a clean rejection (not built)
    assert check_construction("Fake", _mutation(), lambda: _raising(error)) is False


def test_a_value_error_naming_the_field_inside_a_child_counts_as_rejected() -> None:
    error = ConstructValidationError(f"{SUBJECT_PATH}/Role", "role", "x", "must be a role")
    assert check_construction("Fake", _mutation(), lambda: _raising(error)) is False


def test_fails_if_construction_raises_type_error() -> None:
    # GIVEN a construction raising a TypeError THEN the checker reports a violation
    with pytest.raises(PropertyViolationError, match="raised TypeError"):
        check_construction("Fake", _mutation(), lambda: _raising(TypeError("got int")))


def test_fails_if_construction_raises_a_jsii_error() -> None:
    error = RuntimeError("CannotConvertedIntoWhole: '36 hours' cannot be converted")
    with pytest.raises(PropertyViolationError, match="raised RuntimeError"):
        check_construction("Fake", _mutation(), lambda: _raising(error))


def test_fails_if_construction_hangs() -> None:
    # GIVEN a construction that never ends THEN the checker stops it and reports a violation
    def forever() -> None:
        while True:
            pass

    with pytest.raises(PropertyViolationError, match="still running"):
        check_construction("Fake", _mutation(), forever, time_limit=0.2)


def test_fails_if_value_error_omits_the_path() -> None:
    error = ValueError("invalid output_config.role: must be a role")
    with pytest.raises(PropertyViolationError, match="without the path"):
        check_construction("Fake", _mutation(), lambda: _raising(error))


def test_fails_if_value_error_omits_the_property() -> None:
    error = ConstructValidationError(SUBJECT_PATH, "name", "x", "too long")
    with pytest.raises(PropertyViolationError, match="not naming"):
        check_construction("Fake", _mutation(), lambda: _raising(error))


def test_fails_if_the_property_is_only_named_inside_the_value() -> None:
    error = ConstructValidationError(SUBJECT_PATH, "name", "role", "too long")
    with pytest.raises(PropertyViolationError, match="not naming"):
        check_construction("Fake", Mutation("role", "x"), lambda: _raising(error))


def test_fails_if_a_built_case_does_not_synthesize(tmp_path: Path) -> None:
    # GIVEN a construct that builds but whose stack fails cdk-nag (a bucket without any hardening)
    class Unhardened(constructs.Construct):
        def __init__(
            self, scope: constructs.Construct, construct_id: str, *, versioned: bool = False
        ) -> None:
            super().__init__(scope, construct_id)
            cdk.aws_s3.Bucket(self, "Bucket", versioned=versioned)

    subject = Subject(Unhardened, lambda s: {}, {"versioned": prop(True)})
    # WHEN the case runs THEN synthesis fails and the checker reports it
    with pytest.raises(PropertyViolationError, match="synthesis"):
        run_case(
            subject,
            Mutation("versioned", True),
            workdir=tmp_path,
            lint_dir=None,
            synthesize=True,
            tally=Tally(),
            known_defects=(),
        )


def test_known_defects_name_a_fuzzed_prop_and_what_is_wrong() -> None:
    for defect in KNOWN_DEFECTS:
        # GIVEN a known defect THEN it names a fuzzed construct and property, and says what
        # goes wrong (a list entry that no case can reach would hide nothing and mislead)
        subject = _subject(defect.construct)
        assert defect.prop in subject.props, (defect.construct, defect.prop)
        assert defect.description.strip(), (defect.construct, defect.prop)
