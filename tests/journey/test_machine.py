import pytest

from kiosk.journey import Journey, Service, Step, StepNotAllowed

NEW_ORDER = [Step.SERVICE, Step.CONSENT, Step.IDENTITY, Step.ACCOUNT, Step.EMAIL, Step.PASSWORD,
             Step.DRIVE, Step.ISSUING, Step.DONE]


def walk_to(journey: Journey, step: Step, service=Service.NEW):
    journey.choose(service)
    while journey.current is not step:
        journey.complete(journey.current)


def test_a_new_journey_starts_at_the_service_choice():
    assert Journey().current is Step.SERVICE


def test_new_issuance_visits_every_step_in_order():
    journey = Journey()
    journey.choose(Service.NEW)
    seen = [Step.SERVICE]
    while journey.current is not Step.DONE:
        seen.append(journey.current)
        journey.complete(journey.current)
    assert seen + [Step.DONE] == NEW_ORDER


def test_reissue_adds_the_choice_of_certificate_after_the_email_code():
    journey = Journey()
    walk_to(journey, Step.REPLACE, Service.REISSUE)
    assert journey.completed[-1] is Step.EMAIL


def test_a_step_cannot_be_reached_before_the_steps_before_it():
    journey = Journey()
    journey.choose(Service.NEW)
    for later in (Step.IDENTITY, Step.PASSWORD, Step.DRIVE, Step.DONE):
        assert not journey.can_enter(later)
        with pytest.raises(StepNotAllowed) as moved:
            journey.complete(later)
        assert moved.value.current is Step.CONSENT


def test_a_replayed_step_is_refused_and_points_at_the_current_step():
    journey = Journey()
    walk_to(journey, Step.ACCOUNT)
    with pytest.raises(StepNotAllowed) as moved:
        journey.complete(Step.IDENTITY)
    assert moved.value.current is Step.ACCOUNT
    assert journey.completed.count(Step.IDENTITY) == 1


def test_choosing_the_service_twice_is_refused():
    journey = Journey()
    journey.choose(Service.NEW)
    with pytest.raises(StepNotAllowed):
        journey.choose(Service.REISSUE)
    assert journey.service is Service.NEW


def test_reopening_the_drive_step_after_a_failed_write_undoes_only_what_follows():
    journey = Journey()
    walk_to(journey, Step.ISSUING)
    journey.reopen(Step.DRIVE)
    assert journey.current is Step.DRIVE
    assert Step.PASSWORD in journey.completed


def test_progress_counts_visible_steps():
    journey = Journey()
    walk_to(journey, Step.IDENTITY)
    assert journey.position() == (3, 8)
