"""kiosk/journey/flow.py: the identity steps and the visit's life, on a real kiosk without the web (a
SQLite store made by the product's migration, the demo directory, accounts and outbox, the demo CA)."""

from __future__ import annotations

from datetime import date

from kiosk.identity.demo import DEMO_CUSTOMERS
from kiosk.identity.ports import MAX_ACCOUNT_FAILURES
from kiosk.journey.answer import Outcome
from kiosk.journey.machine import Service, Step
from tests.flow_customer import at_email, identify, last_code, started
from tests.walker import HONG

LOST_CARD = next(person for person in DEMO_CUSTOMERS if person.id_reported_lost)


def test_a_customer_the_directory_knows_is_identified_and_moves_on_to_the_account(kiosk):
    visit = started(kiosk, Service.NEW)
    kiosk.flow.consent(visit)
    assert identify(kiosk, visit).ok
    assert visit.customer.name == HONG.name and visit.journey.current is Step.ACCOUNT


def test_a_customer_the_directory_does_not_know_stays_on_the_identity_step(kiosk):
    visit = started(kiosk, Service.NEW)
    kiosk.flow.consent(visit)
    answer = identify(kiosk, visit, issue_date=date(2015, 3, 3))
    assert answer.outcome is Outcome.NOT_FOUND
    assert visit.customer is None and visit.journey.current is Step.IDENTITY


def test_a_card_reported_lost_is_refused_and_counted_towards_the_lock(kiosk):
    visit = started(kiosk, Service.NEW)
    kiosk.flow.consent(visit)
    assert identify(kiosk, visit, LOST_CARD).outcome is Outcome.ID_LOST
    assert [row["action"] for row in kiosk.audit.recent(1)] == ["identity.id_check_failed"]


def test_a_wrong_pin_says_how_many_tries_are_left_and_the_right_one_moves_on(kiosk):
    visit = started(kiosk, Service.NEW)
    kiosk.flow.consent(visit)
    identify(kiosk, visit)
    wrong = kiosk.flow.verify_account(visit, HONG.account, "0000")
    assert (wrong.outcome, wrong.tries_left) == (Outcome.WRONG, MAX_ACCOUNT_FAILURES - 1)
    assert kiosk.flow.verify_account(visit, HONG.account, HONG.pin).ok
    assert visit.journey.current is Step.EMAIL


def test_the_e_mail_code_is_mailed_and_a_wrong_one_says_the_tries_left(kiosk):
    visit = at_email(kiosk)
    assert kiosk.code_sender.recent(1)[0]["recipient"] == HONG.email
    code = last_code(kiosk)
    wrong = kiosk.flow.check_code(visit, "000000" if code != "000000" else "111111")
    assert wrong.outcome is Outcome.WRONG and wrong.tries_left == visit.challenge.tries_left > 0
    assert kiosk.flow.check_code(visit, code).ok
    assert visit.journey.current is Step.PASSWORD


def test_setting_the_password_of_a_new_certificate_starts_nothing(kiosk):
    visit = at_email(kiosk)
    kiosk.flow.check_code(visit, last_code(kiosk))
    kiosk.flow.set_password(visit, "Kiosk!2580x")
    assert visit.journey.current is Step.DRIVE and visit.worker is None and visit.run is None


def test_a_reissue_may_replace_only_one_of_the_customers_own_certificates(kiosk):
    visit = at_email(kiosk, Service.REISSUE)
    kiosk.flow.check_code(visit, last_code(kiosk))
    assert kiosk.flow.choose_replacement(visit, "00ff").outcome is Outcome.NOT_USABLE
    assert visit.replaces is None and visit.journey.current is Step.REPLACE


def test_ending_a_visit_wipes_what_the_customer_proved_and_audits_it(kiosk):
    visit = at_email(kiosk)
    kiosk.flow.end_visit(visit, "customer_reset")
    assert (visit.customer, visit.rrn, visit.stick, visit.source) == (None, "", None, None)
    assert kiosk.audit.recent(1)[0]["action"] == "session.reset"
