"""``/xAPI/about`` (xAPI-Communication.md section 2.8): needs no credentials."""

from flask import jsonify
from flask.typing import ResponseReturnValue

from lrs.api.xapi.blueprint import blp
from lrs.xapi.validation import Version


@blp.route("/about", methods=["GET"], strict_slashes=False)
def about() -> ResponseReturnValue:
    """The xAPI versions this LRS speaks."""
    return jsonify({"version": [str(v) for v in Version], "extensions": {}})
