"""Signed statements (xAPI-Data.md section 2.6).

A signed statement carries an attachment with the signature usage type whose
data is a JWS, compact serialization, whose payload is the statement as it
was before the signature was added. The LRS rejects (400) a malformed
signature: one it cannot decode, with an algorithm other than RS256, RS384
or RS512, whose payload is not the same statement, or that does not verify
against the X.509 certificate its header carries in ``x5c``.
"""

import base64
import binascii
from typing import Any

import jwt
import orjson
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from lrs.exceptions import InvalidInput
from lrs.xapi.attachments import AttachmentData
from lrs.xapi.digests import digest

SIGNATURE = "http://adlnet.gov/expapi/attachments/signature"
ALGORITHMS = ("RS256", "RS384", "RS512")


def _without_signature(statement: dict[str, Any]) -> dict[str, Any]:
    kept = [a for a in statement.get("attachments", ()) if a.get("usageType") != SIGNATURE]
    unsigned = {key: value for key, value in statement.items() if key != "attachments"}
    if kept:
        unsigned["attachments"] = kept
    return unsigned


def check_signature(statement: Any, received: dict[str, AttachmentData], path: str) -> None:
    """Refuse a statement whose signature attachment is malformed.

    Args:
        statement: the statement as received (already validated).
        received: the attachment data of the request, by SHA-2.
        path: where the statement is in the request, for messages.

    Raises:
        InvalidInput: the signature is malformed; the message says how.
    """
    if not isinstance(statement, dict):
        return
    for index, attachment in enumerate(statement.get("attachments") or ()):
        if attachment.get("usageType") != SIGNATURE:
            continue
        where = f"{path}.attachments[{index}]"
        if attachment.get("contentType") != "application/octet-stream":
            raise InvalidInput(f"{where}: a signature's contentType is application/octet-stream")
        data = received.get(str(attachment.get("sha2", "")).lower())
        if data is None:
            raise InvalidInput(f"{where}: the signature's JWS must be sent as a multipart part")
        _check_jws(data.data, statement, where)


def _check_jws(token_bytes: bytes, statement: dict[str, Any], where: str) -> None:
    try:
        token = token_bytes.decode("ascii").strip()
        header = jwt.get_unverified_header(token)
    except (UnicodeDecodeError, jwt.exceptions.DecodeError) as exc:
        raise InvalidInput(
            f"{where}: the signature is not a JWS in compact serialization: {exc}"
        ) from None
    algorithm = header.get("alg")
    if algorithm not in ALGORITHMS:
        raise InvalidInput(f"{where}: the JWS algorithm must be one of {', '.join(ALGORITHMS)}")
    try:
        if "x5c" in header:
            certificate = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))
            key = certificate.public_key()
            if not isinstance(key, rsa.RSAPublicKey):
                raise InvalidInput("the x5c certificate does not hold an RSA key")
            payload = jwt.api_jws.decode(token, key, algorithms=[algorithm])
        else:
            payload = jwt.api_jws.decode_complete(
                token, options={"verify_signature": False}, algorithms=list(ALGORITHMS)
            )["payload"]
    except (jwt.exceptions.PyJWTError, ValueError, TypeError, IndexError, binascii.Error) as exc:
        raise InvalidInput(f"{where}: the JWS signature does not verify: {exc}") from None
    try:
        signed = orjson.loads(payload)
    except orjson.JSONDecodeError:
        raise InvalidInput(f"{where}: the JWS payload is not a JSON statement") from None
    if not isinstance(signed, dict):
        raise InvalidInput(f"{where}: the JWS payload is not a JSON statement")
    # The equality digest leaves ids out (the LRS may assign one); a signed
    # statement that names an id must name the same one.
    ids = {str(item["id"]).lower() for item in (signed, statement) if "id" in item}
    if len(ids) > 1 or digest(_without_signature(signed)) != digest(_without_signature(statement)):
        raise InvalidInput(f"{where}: the JWS payload is not the statement that was sent")
