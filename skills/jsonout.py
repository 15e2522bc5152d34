"""Compact JSON text for stdout, from CPython's own C encoder.

`import json` pulls in `re` (about 7 ms here), more than a whole route. `_json.make_encoder`
is the C encoder `json.dumps` itself uses for compact output, so the text is identical;
pretty output (indent) goes through the ordinary `json` module.
"""

import _json


def _unsupported(value):
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _float_repr(value: float) -> str:
    if not float("-inf") < value < float("inf"):
        return "null"  # NaN and infinities are not JSON
    return float.__repr__(value)


try:  # CPython 3.13 added a floatstr argument; 3.11/3.12 take nine
    _encode = _json.make_encoder(None, _unsupported, _json.encode_basestring_ascii, None, ":", ",", False, False, True)
except TypeError:
    _encode = _json.make_encoder(
        None, _unsupported, _json.encode_basestring_ascii, None, ":", ",", False, False, True, _float_repr
    )


def dumps(value, pretty: bool = False) -> str:
    if pretty:
        import json

        return json.dumps(value, indent=2, ensure_ascii=False, default=_unsupported)
    return "".join(_encode(value, 0))
