"""The REST API at /api/v1 (django-ninja); OpenAPI document at /api/v1/openapi.json.

Every operation needs a personal API token (``Authorization: Bearer …``); the OpenAPI
document and the interactive docs are open so clients can be generated from them.
"""

from ninja import NinjaAPI

from vuoro.api import calendars, calls, catalog, errors, pages, tickets, tokens
from vuoro.api.auth import ApiTokenAuth

api = NinjaAPI(
    title="Vuoro API",
    version="1",
    description="Service desk tickets, the service catalog and personal API tokens.",
    urls_namespace="api",
    auth=ApiTokenAuth(),
)
errors.install(api)
api.add_router("", tickets.router)
api.add_router("", catalog.router)
api.add_router("", tokens.router)
api.add_router("", calendars.router)
api.add_router("", pages.router)
api.add_router("", calls.router)
