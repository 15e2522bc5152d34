"""South African places the offline parsers recognise in a user's words (no database needed).

Parse functions may not touch the database, so provinces, their common abbreviations, and the
cities and townships FibreFlow builds in are listed here; a place that is not listed is left for
the tool (which matches names with ILIKE) or the model.
"""

from __future__ import annotations

import re

PROVINCES = {
    "gauteng": "Gauteng",
    "gp": "Gauteng",
    "western cape": "Western Cape",
    "wc": "Western Cape",
    "eastern cape": "Eastern Cape",
    "ec": "Eastern Cape",
    "northern cape": "Northern Cape",
    "nc": "Northern Cape",
    "kwazulu natal": "KwaZulu-Natal",
    "kwazulu": "KwaZulu-Natal",
    "kzn": "KwaZulu-Natal",
    "natal": "KwaZulu-Natal",
    "limpopo": "Limpopo",
    "mpumalanga": "Mpumalanga",
    "north west": "North West",
    "free state": "Free State",
}
# alias -> the name used in FibreFlow's data
CITIES = {
    "johannesburg": "Johannesburg",
    "joburg": "Johannesburg",
    "jozi": "Johannesburg",
    "jhb": "Johannesburg",
    "soweto": "Soweto",
    "midrand": "Midrand",
    "pretoria east": "Pretoria East",
    "pretoria": "Pretoria",
    "tshwane": "Pretoria",
    "centurion": "Centurion",
    "tembisa": "Tembisa",
    "alexandra": "Alexandra",
    "alex": "Alexandra",
    "soshanguve": "Soshanguve",
    "ekurhuleni": "Ekurhuleni",
    "germiston": "Germiston",
    "kempton park": "Kempton Park",
    "durban north": "Durban North",
    "durban": "Durban",
    "umlazi": "Umlazi",
    "pietermaritzburg": "Pietermaritzburg",
    "pmb": "Pietermaritzburg",
    "richards bay": "Richards Bay",
    "cape town": "Cape Town",
    "khayelitsha": "Khayelitsha",
    "mitchells plain": "Mitchells Plain",
    "stellenbosch": "Stellenbosch",
    "paarl": "Paarl",
    "polokwane": "Polokwane",
    "thohoyandou": "Thohoyandou",
    "mokopane": "Mokopane",
    "mbombela": "Mbombela",
    "nelspruit": "Mbombela",
    "emalahleni": "eMalahleni",
    "witbank": "eMalahleni",
    "rustenburg": "Rustenburg",
    "tlhabane": "Tlhabane",
    "mahikeng": "Mahikeng",
    "bloemfontein": "Bloemfontein",
    "heidedal": "Heidedal",
    "gqeberha": "Gqeberha",
    "port elizabeth": "Gqeberha",
    "east london": "East London",
    "kimberley": "Kimberley",
    "upington": "Upington",
    "sabie": "Sabie",
}


def _normalise(text: str) -> str:
    return " " + re.sub(r"[^a-z0-9]+", " ", text.lower()).strip() + " "


def _longest_alias(text: str, table: dict[str, str]) -> str | None:
    padded = _normalise(text)
    for alias in sorted(table, key=len, reverse=True):
        if f" {alias} " in padded:
            return table[alias]
    return None


def find_place(text: str) -> str | None:
    """The most specific place named in `text`: a city or township first, else a province.

    "Pretoria East" wins over "Pretoria", and the two-letter province codes (GP, EC...) count only when
    written in capitals (so "ec" inside a sentence is not the Eastern Cape).
    """
    city = _longest_alias(text, CITIES)
    if city:
        return city
    province = _longest_alias(text, {k: v for k, v in PROVINCES.items() if len(k) > 2})
    if province:
        return province
    codes = {k.upper(): v for k, v in PROVINCES.items() if len(k) <= 2}
    for word in re.findall(r"\b[A-Z]{2}\b", text):
        if word in codes:
            return codes[word]
    return None


def canonical_place(value: str | None) -> str | None:
    """A user's or model's spelling of a place ("kzn", "Joburg") as the data spells it."""
    if value is None:
        return None
    key = _normalise(value).strip()
    return PROVINCES.get(key) or CITIES.get(key) or value.strip()
