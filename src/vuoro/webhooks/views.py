"""Inbound updates from a hand-off's external system: signed JSON, no session, no CSRF."""

import json
import time

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from vuoro.tickets.models import Ticket
from vuoro.webhooks import services
from vuoro.webhooks.models import ExternalReference, HandOff
from vuoro.webhooks.signing import verify


@csrf_exempt
@require_POST
def handoff_update(request: HttpRequest, service_slug: str) -> JsonResponse:
    """401 for a bad or stale signature, 404 for an unknown reference, 400 for bad JSON."""
    handoff = get_object_or_404(HandOff, service__slug=service_slug, active=True)
    if not verify(handoff.secret, request.headers.get("X-Vuoro-Timestamp", ""), request.body,
                  request.headers.get("X-Vuoro-Signature", ""), now=time.time()):
        return JsonResponse({"error": "bad signature"}, status=401)
    try:
        data = json.loads(request.body)
        reference = str(data["reference"])
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"error": "expected JSON with a reference"}, status=400)
    try:
        ticket = services.inbound_update(handoff=handoff, reference=reference,
                                         status=str(data.get("status") or ""),
                                         comment=str(data.get("comment") or ""))
    except (ExternalReference.DoesNotExist, Ticket.DoesNotExist):
        return JsonResponse({"error": "unknown reference"}, status=404)
    except PermissionDenied:
        return JsonResponse({"error": "no active administrator can act for the external system"},
                            status=503)
    return JsonResponse({"reference": ticket.reference, "status": ticket.status})
