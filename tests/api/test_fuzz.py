"""Schemathesis generates requests from the server's own OpenAPI document: none may give a 5xx.

A bounded number of examples per operation keeps this in the test suite's budget, and
a fixed seed keeps CI repeatable. To explore with fresh random inputs, run it with
``LRS_FUZZ_RANDOM=1`` (and more examples with ``LRS_FUZZ_EXAMPLES=500``).
"""

import os

import httpx
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode

from tests.support import ADMIN, basic, make_app

app = make_app()
# Forwarding targets the fuzz adds are never reached over the network.
app.extensions["lrs-forwarding-transport"] = httpx.MockTransport(
    lambda request: httpx.Response(503)
)
app.extensions["lrs"].state.set("learner0", "block-v1:O+C+R+type@problem+block@b0", {"a": 1})
schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
# Valid requests, and requests that break the schema on purpose.
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])


@schema.parametrize()
@settings(
    max_examples=int(os.environ.get("LRS_FUZZ_EXAMPLES", "50")),
    derandomize=not os.environ.get("LRS_FUZZ_RANDOM"),
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_request_gives_a_server_error(case):
    response = case.call(headers=basic(*ADMIN))
    assert response.status_code < 500, (case.method, case.formatted_path, response.text)
