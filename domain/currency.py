"""ISO 4217 currency codes in active use, with their number of minor units.

Precious metals, bond-market units, testing and "no currency" codes (XAU, XDR, XTS, XXX, ...)
are left out on purpose: an account cannot hold them. Withdrawn codes (HRK, SLL, ZWL, ANG, ...)
are left out too. Source: ISO 4217 List One, as amended up to 2025.
"""

from __future__ import annotations

from types import MappingProxyType

from domain.errors import InvalidCurrency

_MINOR_UNITS: dict[str, int] = {
    **dict.fromkeys(
        "AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BMD BND BOB BOV BRL BSD BTN BWP BYN "
        "BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD "
        "FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW "
        "KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR "
        "MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG "
        "SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD "
        "USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG".split(),
        2,
    ),
    **dict.fromkeys(
        "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split(), 0
    ),
    **dict.fromkeys("BHD IQD JOD KWD LYD OMR TND".split(), 3),
    **dict.fromkeys("CLF UYW".split(), 4),
}

MINOR_UNITS = MappingProxyType(_MINOR_UNITS)
"""Active currency code -> digits after the decimal point."""


def require_currency(code: str) -> str:
    """Return `code` when it names an active ISO 4217 currency (upper case, exact)."""
    if code not in MINOR_UNITS:
        raise InvalidCurrency(f"{code!r} is not an active ISO 4217 currency code.")
    return code
