"""schemathesis with all its checks, for every operation, as a resident, a volunteer, a partner
and an administrator (issue 19, finding 6): every failure of every operation is gathered
(--continue-on-failure) and the test fails on any.

One expectation is set in the open, with its reason. "A schema-valid request is accepted"
(positive_data_acceptance) also takes a 422: the services judge what JSON Schema cannot say (a
description of a few words, a day not in the past, a cursor that this list made, a code that
is right), and answer 422 with the field named, as the document lists for each operation.
"""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import checks as builtin
from schemathesis.config import SchemathesisConfig

from tests.api.test_api_helpers import make_token
from tests.api.test_api_schemathesis import live_app, live_url  # noqa: F401 (the module's served app)

EXAMPLES = int(os.environ.get("API_SCHEMATHESIS_ALL_CHECKS_EXAMPLES", "10"))
ALL_CHECKS = [getattr(builtin, name) for name in (
    "not_a_server_error", "status_code_conformance", "content_type_conformance", "response_headers_conformance",
    "response_schema_conformance", "negative_data_rejection", "positive_data_acceptance", "use_after_free",
    "ensure_resource_availability", "ignored_auth", "missing_required_header", "unsupported_method")]
# The declared expectation (see the module's text): the default list, and 422.
DECLARED = {"checks": {"positive_data_acceptance": {
    "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]}}}


@pytest.mark.parametrize("who", ["resident", "volunteer", "partner_staff", "admin"])
def test_all_checks_for_every_operation(live_app, live_url, who):  # noqa: F811
    headers = {"Authorization": f"Bearer {make_token(live_app, who, name=f'all checks {who}')}"}
    schema = schemathesis.openapi.from_url(f"{live_url}/api/v1/openapi.json",
                                           config=SchemathesisConfig.from_dict(DECLARED))
    failures, operations = [], [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    for operation in operations:
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case):
            case.call_and_validate(headers=headers, checks=ALL_CHECKS)

        try:
            check()
        except BaseException as error:  # noqa: BLE001 - every operation's failures, then all of them at once
            failures.append(f"{operation.method.upper()} {operation.path}:\n{error}")
    assert not failures, "\n\n".join(failures)
