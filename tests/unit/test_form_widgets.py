"""The kiosk's form widgets write exactly what WTForms' own would, only faster (docs/performance.md)."""

from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup
from wtforms.widgets.core import html_params

from kiosk.web.forms import IdentityForm, html_attributes

KEYS = st.sampled_from(["class_", "id", "name", "value", "maxlength", "data_keyboard", "aria_label",
                        "aria-describedby", "inputmode", "checked", "readonly", "for_"])
VALUES = st.one_of(st.booleans(), st.integers(), st.none(), st.text(),
                   st.text().map(Markup), st.sampled_from(['"', "'", "<>&", "이름 \"홍\""]))


@given(st.dictionaries(KEYS, VALUES))
def test_attributes_are_written_as_wtforms_writes_them(attributes):
    ours = html_attributes(**attributes)
    assert isinstance(ours, Markup)
    assert ours == html_params(**attributes)


def test_a_hostile_value_stays_inside_its_attribute(app):
    with app.test_request_context():
        form = IdentityForm(data={"name": '"><script>alert(1)</script>'}, meta={"csrf": False})
        html = str(form.name(class_="input"))
    assert "<script>" not in html
    assert 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in html


def test_a_password_field_never_writes_its_value_back(app):
    with app.test_request_context():
        form = IdentityForm(data={"rrn_back": "1234568"}, meta={"csrf": False})
        assert 'value=""' in str(form.rrn_back()) and "1234568" not in str(form.rrn_back())
