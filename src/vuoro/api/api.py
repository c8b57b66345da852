"""The REST API at /api/v1 (django-ninja); OpenAPI document at /api/v1/openapi.json."""

from ninja import NinjaAPI

api = NinjaAPI(title="Vuoro API", version="1", urls_namespace="api")
