"""The taxpayer ID (unified social credit code, GB 32100-2015): its check character and the
three ways a code is wrong, each with its own message."""

import pytest

from erp_core.errors import DomainError
from plugins.orders.taxpayer_id import ALPHABET, WEIGHTS, check_character, check_taxpayer_id

# Real codes of registered companies (as printed on their business licences).
VALID = ("91350100M000100Y43",  # the standard's own example
         "91440300708461136T",  # 深圳市腾讯计算机系统有限公司
         "91110000600037341L")


def test_the_alphabet_and_weights_are_the_standards():
    assert len(ALPHABET) == 31 and not set("IOZSV") & set(ALPHABET)
    assert WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


@pytest.mark.parametrize("code", VALID)
def test_real_codes_pass(orders_app, code):
    with orders_app.test_request_context():
        assert check_character(code[:17]) == code[17]
        assert check_taxpayer_id(code) == code


def test_typing_is_forgiven_case_and_spaces(orders_app):
    with orders_app.test_request_context():
        assert check_taxpayer_id(" 9135 0100-m000 100y43 ") == "91350100M000100Y43"
        assert check_taxpayer_id("") == "" and check_taxpayer_id(None) == ""


def test_a_check_value_of_31_is_written_0(orders_app):
    # find 17 characters whose weighted sum is a multiple of 31: the check character is "0"
    base = "9144030070846113"
    last = next(c for c in ALPHABET if check_character(base + c) == "0")
    with orders_app.test_request_context():
        assert check_taxpayer_id(base + last + "0") == base + last + "0"


def _refusal(app, code) -> str:
    with app.test_request_context():
        with pytest.raises(DomainError) as caught:
            check_taxpayer_id(code)
    assert caught.value.field == "taxpayer_id"
    return str(caught.value)


@pytest.mark.parametrize("code", ["91350100M000100Y4", "91350100M000100Y433", "913501", "9" * 20])
def test_wrong_length(orders_app, code):
    assert f"has 18 characters; this one has {len(code)}" in _refusal(orders_app, code)


@pytest.mark.parametrize("letter", ["I", "O", "Z", "S", "V"])
def test_letters_the_standard_leaves_out(orders_app, letter):
    code = "91350100M000100Y43".replace("M", letter)
    message = _refusal(orders_app, code)
    assert "except I, O, Z, S and V" in message and f"{letter} cannot be in it" in message


def test_other_characters(orders_app):
    assert "* cannot be in it" in _refusal(orders_app, "91350100M000100*43")
    assert "中 cannot be in it" in _refusal(orders_app, "91350100M000100中43")


@pytest.mark.parametrize("code", ["91350100M000100Y44",  # last character changed
                                  "91350100M000100Y34",  # two characters swapped
                                  "91440300708461137T"])  # one digit mistyped
def test_wrong_check_character(orders_app, code):
    assert "last character does not match" in _refusal(orders_app, code)


def test_messages_in_chinese(orders_app):
    from flask_babel import force_locale

    with orders_app.test_request_context(), force_locale("zh_CN"):
        for code in ("913501", "91350100I000100Y43", "91350100M000100Y44"):
            with pytest.raises(DomainError) as caught:
                check_taxpayer_id(code)
            assert "纳税人识别号" in str(caught.value)
