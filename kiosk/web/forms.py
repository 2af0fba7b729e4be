"""The customer's forms: server-side validation with polite messages next to the field.

Every field strips and refuses control characters and caps its length before any rule runs, so that
hostile input (very long, emoji, control characters, SQL or HTML fragments) gets a message, never a 500.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import wtforms
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import SelectField, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp, ValidationError
from wtforms.widgets.core import clean_key

from kiosk.pki.password import unmet_rules
from kiosk.pki.rrn import InvalidResidentNumber, parse_rrn

NAME_PATTERN = re.compile(r"^[가-힣A-Za-z][가-힣A-Za-z ]{0,28}[가-힣A-Za-z]$")
ID_KINDS = [SelectChoice("resident_card", _l("주민등록증")), SelectChoice("driver_license", _l("운전면허증"))]


def clean(value):
    """NFC and trimmed. Control characters stay, so that the field's rule refuses them visibly."""
    if value is None:
        return value
    return unicodedata.normalize("NFC", str(value)).strip()


def digits_only(value):
    """The one reading of every numeric field (account, PIN, code, resident number, issue date): NFKC,
    so that full-width digits and hyphens from a Korean IME are the ASCII ones, then spaces and hyphens
    dropped. What is left must be ASCII digits (`DIGITS`): other scripts' digits are refused by the form,
    never passed on to be counted as a wrong PIN."""
    if value is None:
        return ""
    return re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", str(value)))


def digits(count: str) -> str:
    """A pattern of exactly `count` ASCII digits (`\\d` would also take ٣ or ３)."""
    return rf"^[0-9]{{{count}}}$"


def html_attributes(**attributes) -> Markup:
    """What WTForms' `html_params` writes, built with plain string joins: WTForms formats each attribute
    through `Markup.format` (string.Formatter), which was a third of a step's render time (bench/latency)."""
    parts = []
    for key, value in sorted(attributes.items()):
        if value is True:
            parts.append(clean_key(key))
        elif value is not False:
            text = str(escape(value)).replace('"', "&quot;")  # a Markup value is not escaped: its quotes are
            parts.append(f'{clean_key(key)}="{text}"')
    return Markup(" ".join(parts))


class FastAttributes:
    html_params = staticmethod(html_attributes)


class TextInput(FastAttributes, widgets.TextInput):
    pass


class PasswordInput(FastAttributes, widgets.PasswordInput):
    pass


class HiddenInput(FastAttributes, widgets.HiddenInput):
    pass


class CheckboxInput(FastAttributes, widgets.CheckboxInput):
    pass


class StringField(wtforms.StringField):
    widget = TextInput()


class PasswordField(wtforms.PasswordField):
    widget = PasswordInput()


class HiddenField(wtforms.HiddenField):
    widget = HiddenInput()


class BooleanField(wtforms.BooleanField):
    widget = CheckboxInput()


class KioskForm(FlaskForm):
    class Meta:
        # a kiosk answers hostile input with a message; WTForms' defaults are fine otherwise
        locales = False


class ConsentForm(KioskForm):
    terms = BooleanField(_l("인증서비스 이용약관에 동의합니다 (필수)"),
                         validators=[DataRequired(_l("이용약관에 동의해 주셔야 발급할 수 있습니다."))])
    privacy = BooleanField(_l("개인정보 수집·이용에 동의합니다 (필수)"),
                           validators=[DataRequired(_l("개인정보 수집·이용에 동의해 주셔야 발급할 수 있습니다."))])


class IdentityForm(KioskForm):
    name = StringField(_l("이름"), filters=[clean], validators=[
        InputRequired(_l("이름을 입력해 주세요.")),
        Length(max=30, message=_l("이름이 너무 깁니다. 신분증에 적힌 이름을 입력해 주세요.")),
        Regexp(NAME_PATTERN, message=_l("이름은 한글 또는 영문으로 입력해 주세요.")),
    ])
    rrn_front = StringField(_l("주민등록번호 앞자리"), filters=[digits_only], validators=[
        InputRequired(_l("주민등록번호 앞 6자리를 입력해 주세요.")),
        Regexp(digits("6"), message=_l("주민등록번호 앞자리는 숫자 6자리입니다.")),
    ])
    rrn_back = PasswordField(_l("주민등록번호 뒷자리"), filters=[digits_only], validators=[
        InputRequired(_l("주민등록번호 뒤 7자리를 입력해 주세요.")),
        Regexp(digits("7"), message=_l("주민등록번호 뒷자리는 숫자 7자리입니다.")),
    ])
    id_kind = SelectField(_l("신분증 종류"), choices=ID_KINDS,
                          validate_choice=True)
    issue_date = StringField(_l("신분증 발급일자 (예: 20150302)"), filters=[digits_only], validators=[
        InputRequired(_l("신분증의 발급일자를 입력해 주세요.")),
        Regexp(digits("8"), message=_l("발급일자는 숫자 8자리로 입력해 주세요 (예: 20150302).")),
    ])

    def validate_rrn_back(self, field):
        if self.rrn_front.errors or not re.fullmatch(r"[0-9]{6}", self.rrn_front.data or ""):
            return
        try:
            self.rrn = parse_rrn(self.rrn_front.data + field.data)
        except InvalidResidentNumber as exc:
            raise ValidationError(_l("주민등록번호를 다시 확인해 주세요.")) from exc

    def validate_issue_date(self, field):
        try:
            issued = date(int(field.data[:4]), int(field.data[4:6]), int(field.data[6:8]))
        except ValueError as exc:
            raise ValidationError(_l("발급일자가 올바른 날짜가 아닙니다.")) from exc
        if issued > date.today() or issued.year < 1968:
            raise ValidationError(_l("발급일자가 올바른 날짜가 아닙니다."))
        self.issued_on = issued


def licence_chars(value):
    """A driver's licence number or serial as printed, in its digits and capitals only."""
    return re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", str(value or ""))).upper()


class CardConfirmForm(IdentityForm):
    """What the camera read, as the customer corrected it (issue 25). The resident number's back part is
    never sent to the page: left empty, it stays as read (kept in the visit); typed, it replaces it."""

    rrn_back = PasswordField(_l("주민등록번호 뒷자리"), filters=[digits_only])
    licence_number = StringField(_l("운전면허번호 (12자리)"), filters=[licence_chars])
    licence_serial = StringField(_l("암호일련번호"), filters=[licence_chars], validators=[
        Optional(), Regexp(r"^[A-Z0-9]{4,8}$", message=_l("암호일련번호는 영문과 숫자 4~8자리입니다.")),
    ])

    def __init__(self, *args, read_back: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.read_back = read_back

    def validate_rrn_back(self, field):
        field.data = field.data or self.read_back
        if not re.fullmatch(r"[0-9]{7}", field.data):
            raise ValidationError(_l("주민등록번호 뒷자리는 숫자 7자리입니다."))
        super().validate_rrn_back(field)

    def validate_licence_number(self, field):
        if self.id_kind.data != "driver_license":
            field.data = ""
        elif not re.fullmatch(r"[0-9]{12}", field.data or ""):
            raise ValidationError(_l("운전면허번호 12자리를 입력해 주세요."))


class AccountForm(KioskForm):
    account = StringField(_l("출금계좌번호"), filters=[digits_only], validators=[
        InputRequired(_l("계좌번호를 입력해 주세요.")),
        Regexp(digits("10,16"), message=_l("계좌번호는 숫자 10~16자리입니다.")),
    ])
    pin = PasswordField(_l("계좌 비밀번호 4자리"), filters=[digits_only], validators=[
        InputRequired(_l("계좌 비밀번호 4자리를 입력해 주세요.")),
        Regexp(digits("4"), message=_l("계좌 비밀번호는 숫자 4자리입니다.")),
    ])


class AccountPickForm(KioskForm):
    """The account tapped in the directory's list (its place in the list, never its number), and the PIN."""

    choice = StringField(validators=[InputRequired(_l("출금계좌를 골라 주세요.")), Regexp(r"^[0-9]{1,2}$")])
    pin = PasswordField(_l("계좌 비밀번호 4자리"), filters=[digits_only], validators=[
        InputRequired(_l("계좌 비밀번호 4자리를 입력해 주세요.")),
        Regexp(digits("4"), message=_l("계좌 비밀번호는 숫자 4자리입니다.")),
    ])


class CodeForm(KioskForm):
    code = StringField(_l("인증번호 6자리"), filters=[digits_only], validators=[
        InputRequired(_l("메일로 받은 인증번호 6자리를 입력해 주세요.")),
        Regexp(digits("6"), message=_l("인증번호는 숫자 6자리입니다.")),
    ])


PASSWORD_RULE_TEXT = {
    "length": _l("10자 이상"),
    "letter": _l("영문자 포함"),
    "digit": _l("숫자 포함"),
    "special": _l("특수문자 포함"),
    "forbidden_char": _l("' \" \\ | 는 쓸 수 없음"),
    "repeat": _l("같은 문자 3번 연속 금지"),
    "sequence": _l("연속된 문자 3개 금지 (abc, 123)"),
}


class PasswordForm(KioskForm):
    password = PasswordField(_l("인증서 비밀번호"), validators=[
        InputRequired(_l("인증서 비밀번호를 입력해 주세요.")),
        Length(max=64, message=_l("비밀번호가 너무 깁니다 (64자 이하).")),
    ])
    confirm = PasswordField(_l("비밀번호 확인"), validators=[
        InputRequired(_l("같은 비밀번호를 한 번 더 입력해 주세요.")),
    ])

    def validate_password(self, field):
        if unmet_rules(field.data or ""):
            raise ValidationError(_l("비밀번호 규칙을 모두 지켜 주세요."))

    def validate_confirm(self, field):
        if field.data != self.password.data:
            raise ValidationError(_l("두 비밀번호가 다릅니다. 다시 입력해 주세요."))


class DriveForm(KioskForm):
    drive_id = HiddenField(validators=[InputRequired(_l("USB를 선택해 주세요.")), Length(max=200)])
    # 인증서 복사 onto a stick with another certificate of the same name: the customer's "yes" or "no"
    replace = HiddenField(validators=[Length(max=3)])


class ReplaceForm(KioskForm):
    serial = HiddenField(validators=[InputRequired(_l("바꿀 인증서를 선택해 주세요.")), Length(max=64)])


class SourceForm(KioskForm):
    """The certificate on the customer's stick a service starts from, and its current password."""

    folder = StringField(filters=[clean], validators=[InputRequired(_l("인증서를 골라 주세요.")), Length(max=1000)])
    password = PasswordField(_l("지금 쓰시는 인증서 비밀번호"), validators=[
        InputRequired(_l("인증서 비밀번호를 입력해 주세요.")),
        Length(max=64, message=_l("비밀번호가 너무 깁니다 (64자 이하).")),
    ])


class RevokeForm(KioskForm):
    """인증서 폐지: a certificate from the customer's list, first asked, then confirmed (`confirm` = yes)."""

    serial = HiddenField(validators=[InputRequired(_l("폐지할 인증서를 선택해 주세요.")), Length(max=64)])
    confirm = StringField(filters=[clean], validators=[Length(max=3)])


class DeleteForm(KioskForm):
    """Deleting a certificate from the stick: first asked, then confirmed (`confirm` = yes)."""

    folder = StringField(filters=[clean], validators=[InputRequired(), Length(max=1000)])
    confirm = StringField(filters=[clean], validators=[Length(max=3)])
