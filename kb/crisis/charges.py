"""What a UK number costs the caller, worked out from its first digits (no app needed).

The bands follow Ofcom's consumer guidance on call charges:

- 0800 and 0808 (Freephone) are free from landlines and mobiles since 1 July 2015, and
  calls to 084, 087, 09 and 118 numbers are made of a service charge set by the
  organisation plus the caller's phone company's access charge:
  https://ask.ofcom.org.uk/help/telephone/08_changes (Ofcom, "What has Ofcom changed
  with regard to 08 numbers?").
- 03 numbers cost no more than a call to an 01 or 02 number and count towards inclusive
  minutes in the same way: https://ask.ofcom.org.uk/help/telephone/03number (Ofcom,
  "What are 03 numbers?").
- The 116 numbers (harmonised European numbers for services of social value, e.g.
  Samaritans 116 123) are free from landlines, mobiles and payphones:
  https://www.ofcom.org.uk/phones-and-broadband/phone-numbers/116 and Ofcom's news item
  "Charities awarded 116 numbers" (28 October 2009).
- 999 and 112 (emergency) and NHS 111 are free to call.
Anything else (a number abroad, a short code we do not know) gets no mark rather than a
guess.
"""

from __future__ import annotations

from dataclasses import dataclass

FREE = "free"
LANDLINE = "landline"
MOBILE = "mobile"
SERVICE = "service"  # 084, 087, 118 (and 070): more than an ordinary call
PREMIUM = "premium"  # 09


@dataclass(frozen=True)
class CallCost:
    """A number's charge band and how the page says it."""

    band: str
    label: str
    detail: str = ""

    @property
    def costs_caller(self) -> bool:
        """True when the caller pays more than an ordinary call (the page marks these)."""
        return self.band in (SERVICE, PREMIUM)


_FREE = CallCost(FREE, "Free to call", "from landlines and mobiles")
_LANDLINE = CallCost(LANDLINE, "Landline rate",
                     "the same as a call to a landline; inside most call allowances")
_MOBILE = CallCost(MOBILE, "Mobile rate", "charged as a call to a mobile")
_SERVICE = CallCost(SERVICE, "Costs the caller",
                    "a service charge on top of their phone company's access charge")
_PERSONAL = CallCost(SERVICE, "Costs the caller",
                     "a personal number, charged well above an ordinary call")
_PREMIUM = CallCost(PREMIUM, "Costs the caller", "premium rate: expensive, above all from a mobile")


def _national_digits(number: str) -> str | None:
    """The number's digits as dialled inside the UK, or None for a number abroad."""
    text = (number or "").strip()
    if text.startswith("+"):
        digits = "".join(ch for ch in text.replace("(0)", "") if ch.isdigit())
        if not digits.startswith("44"):
            return None
        return "0" + digits[2:]
    if text.startswith("00"):
        return _national_digits("+" + text[2:])
    return "".join(ch for ch in text if ch.isdigit())


def call_cost(number: str) -> CallCost | None:
    """The charge band of a UK phone number, or None when it cannot be told (or is a URL)."""
    digits = _national_digits(number)
    if not digits or any(ch.isalpha() for ch in number or ""):
        return None
    if digits in ("999", "112", "111") or (len(digits) == 6 and digits.startswith("116")):
        return _FREE
    if digits.startswith(("0800", "0808")):
        return _FREE
    if digits.startswith(("084", "087", "118")):
        return _SERVICE
    if digits.startswith("070"):
        return _PERSONAL
    if digits.startswith("09"):
        return _PREMIUM
    if digits.startswith(("01", "02", "03")):
        return _LANDLINE
    if digits.startswith("07") and not digits.startswith("076"):
        return _MOBILE
    return None
