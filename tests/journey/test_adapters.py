"""The production adapters against real servers on loopback: an HTTP JSON service and aiosmtpd."""

import json
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from kiosk.identity import Customer, IdCheckOutcome, IdentityServiceUnavailable
from kiosk.identity.http import HttpAccounts, HttpDirectory, HttpIdCheck
from kiosk.identity.smtp import SmtpCodeSender
from kiosk.jsonhttp import JsonService
from tests.conftest import free_port, send_json


class BankService:
    """A real HTTP server with scripted answers; `answers` maps path -> list of (status, body)."""

    def __init__(self):
        self.answers, self.requests, self.delay = {}, [], 0.0
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                service.requests.append((self.path, body))
                if service.delay:
                    threading.Event().wait(service.delay)
                status, answer = service.answers[self.path].pop(0)
                send_json(self, answer, status)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def bank():
    service = BankService()
    yield service
    service.server.shutdown()


def directory(bank, **kw):
    return HttpDirectory(JsonService(bank.url, IdentityServiceUnavailable, backoff=0.01, **kw), "hash-key")


def test_a_match_returns_the_customer_with_the_banks_opaque_id(bank):
    bank.answers["/customers/match"] = [(200, {"match": True, "customer_id": "c-42", "name": "홍길동",
                                                "english_name": "HONG GILDONG", "email": "hong@example.com"})]
    customer = directory(bank).find("홍길동", "9001011234568", "resident_card", date(2015, 3, 2))
    assert customer.reference == "c-42" and customer.email == "hong@example.com"
    assert bank.requests[0][1]["id_issue_date"] == "2015-03-02"


def test_no_match_is_none(bank):
    bank.answers["/customers/match"] = [(200, {"match": False})]
    assert directory(bank).find("홍길동", "9001011234568", "resident_card", date(2015, 3, 2)) is None


def test_a_503_is_retried_then_answers(bank):
    bank.answers["/customers/match"] = [(503, "{}"), (200, {"match": False})]
    assert directory(bank).find("홍길동", "9001011234568", "resident_card", date(2015, 3, 2)) is None
    assert len(bank.requests) == 2


def test_a_timeout_is_service_unavailable(bank):
    bank.delay = 0.5
    bank.answers["/customers/match"] = [(200, {"match": False})]
    with pytest.raises(IdentityServiceUnavailable):
        directory(bank, timeout=0.1).find("홍길동", "9001011234568", "resident_card", date(2015, 3, 2))


def test_a_body_that_is_not_json_is_service_unavailable(bank):
    bank.answers["/accounts/verify"] = [(200, "<html>proxy error</html>")]
    customer = Customer("k", "홍길동", "", "hong@example.com", reference="c-42")
    with pytest.raises(IdentityServiceUnavailable):
        HttpAccounts(JsonService(bank.url, IdentityServiceUnavailable)).check(customer, "01234501234567", "1357")


def test_json_that_is_not_an_object_is_service_unavailable(bank):
    bank.answers["/customers/match"] = [(200, "[]")]
    with pytest.raises(IdentityServiceUnavailable, match="not a JSON object"):
        directory(bank).find("홍길동", "9001011234568", "resident_card", date(2015, 3, 2))


def test_an_account_check_is_not_retried_after_the_service_saw_it(bank):
    bank.answers["/accounts/verify"] = [(500, "{}"), (200, {"ok": True})]
    customer = Customer("k", "홍길동", "", "hong@example.com", reference="c-42")
    with pytest.raises(IdentityServiceUnavailable):
        HttpAccounts(JsonService(bank.url, IdentityServiceUnavailable)).check(customer, "01234501234567", "1357")
    assert len(bank.requests) == 1


def test_nobody_listening_is_service_unavailable():
    service = JsonService(f"http://127.0.0.1:{free_port()}", IdentityServiceUnavailable, backoff=0.01)
    with pytest.raises(IdentityServiceUnavailable):
        HttpDirectory(service, "k").find("홍길동", "9001011234568", "resident_card", date(2015, 3, 2))


def test_smtp_delivers_the_code_to_a_real_server(smtp_server):
    SmtpCodeSender(smtp_server.url, "kiosk@post.example").send("hong@example.com", "code", "코드 123456")
    message = smtp_server.wait_for(1)
    assert message["To"] == "hong@example.com" and "123456" in message.get_content()


def test_smtp_down_is_service_unavailable():
    sender = SmtpCodeSender(f"smtp://127.0.0.1:{free_port()}", "kiosk@post.example", timeout=2)
    with pytest.raises(IdentityServiceUnavailable):
        sender.send("hong@example.com", "code", "body")


def test_an_smtp_url_with_an_unknown_scheme_is_refused():
    with pytest.raises(ValueError):
        SmtpCodeSender("http://mail.example", "kiosk@post.example")


CUSTOMER = Customer("k", "홍길동", "", "hong@example.com", reference="c-42")


def test_the_directory_lists_the_customers_accounts_masked(bank):
    bank.answers["/customers/accounts"] = [(200, {"accounts": [{"account": "01234501234567"},
                                                               {"account": "01234511876543"}]})]
    accounts = directory(bank).accounts(CUSTOMER)
    assert [a.account for a in accounts] == ["01234501234567", "01234511876543"]
    assert [a.masked for a in accounts] == ["012345-**-**4567", "012345-**-**6543"]
    assert bank.requests == [("/customers/accounts", {"customer_id": "c-42"})]
    assert "01234501234567" not in repr(accounts)


def test_a_customer_without_accounts_gets_an_empty_list(bank):
    bank.answers["/customers/accounts"] = [(200, {"accounts": []})]
    assert directory(bank).accounts(CUSTOMER) == []


@pytest.mark.parametrize("answer", [{}, {"accounts": "01234501234567"}, {"accounts": [{"account": "12-34"}]},
                                    {"accounts": [{"account": "０１２３４５０１２３４５６７"}]}, {"accounts": [7]}],
                         ids=["missing", "not-a-list", "not-digits", "full-width", "not-an-object"])
def test_an_account_list_out_of_contract_is_service_unavailable(bank, answer):
    bank.answers["/customers/accounts"] = [(200, answer)]
    with pytest.raises(IdentityServiceUnavailable):
        directory(bank).accounts(CUSTOMER)


def id_check(bank, **kw):
    return HttpIdCheck(JsonService(bank.url, IdentityServiceUnavailable, backoff=0.01, **kw))


@pytest.mark.parametrize("result, outcome", [("matches", IdCheckOutcome.MATCHES),
                                             ("mismatch", IdCheckOutcome.MISMATCH),
                                             ("reported_lost", IdCheckOutcome.REPORTED_LOST)])
def test_the_id_check_answers_each_outcome(bank, result, outcome):
    bank.answers["/idcards/check"] = [(200, {"result": result})]
    assert id_check(bank).check("resident_card", "홍길동", "9001011234568", date(2015, 3, 2)) is outcome
    assert bank.requests[0][1] == {"kind": "resident_card", "name": "홍길동", "rrn": "9001011234568",
                                   "issue_date": "2015-03-02"}


def test_a_licence_is_checked_with_its_number_and_serial(bank):
    bank.answers["/idcards/check"] = [(200, {"result": "matches"})]
    id_check(bank).check("driver_license", "김영희", "8505052345674", date(2019, 7, 15),
                         licence_number="21-19-174133-02", licence_serial="K7WQ2M")
    assert bank.requests[0][1]["licence_number"] == "21-19-174133-02"
    assert bank.requests[0][1]["licence_serial"] == "K7WQ2M"


@pytest.mark.parametrize("answer", [{}, {"result": "maybe"}, {"result": None}])
def test_an_unknown_id_check_result_is_service_unavailable(bank, answer):
    bank.answers["/idcards/check"] = [(200, answer)]
    with pytest.raises(IdentityServiceUnavailable):
        id_check(bank).check("resident_card", "홍길동", "9001011234568", date(2015, 3, 2))


def test_an_id_check_timeout_is_service_unavailable(bank):
    bank.delay = 0.5
    bank.answers["/idcards/check"] = [(200, {"result": "matches"})]
    with pytest.raises(IdentityServiceUnavailable):
        id_check(bank, timeout=0.1).check("resident_card", "홍길동", "9001011234568", date(2015, 3, 2))


def test_an_id_check_503_is_retried(bank):
    bank.answers["/idcards/check"] = [(503, "{}"), (200, {"result": "matches"})]
    assert id_check(bank).check("resident_card", "홍길동", "9001011234568", date(2015, 3, 2)) \
        is IdCheckOutcome.MATCHES
