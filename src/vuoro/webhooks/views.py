"""Inbound updates from a hand-off's external system: signed JSON, no session, no CSRF."""

import json
import time

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from vuoro.tickets.models import Ticket
from vuoro.webhooks import services
from vuoro.webhooks.models import ExternalReference, HandOff
from vuoro.webhooks.signing import verify

REFERENCE_MAX = ExternalReference._meta.get_field("reference").max_length


@csrf_exempt
@require_POST
def handoff_update(request: HttpRequest, service_slug: str) -> JsonResponse:
    """401 for a bad or stale signature, 404 for an unknown reference, 400 for bad JSON.

    409 when ``vuoro_reference`` names a ticket already linked to another external reference.
    """
    handoff = get_object_or_404(HandOff, service__slug=service_slug, active=True)
    if not verify(handoff.secret, request.headers.get("X-Vuoro-Timestamp", ""), request.body,
                  request.headers.get("X-Vuoro-Signature", ""), now=time.time()):
        return JsonResponse({"error": "bad signature"}, status=401)
    try:
        data = json.loads(request.body)
        reference = data["reference"]
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"error": "expected JSON with a reference"}, status=400)
    # It may become a stored link (an email hand-off's first update): never "None" or too long.
    if isinstance(reference, bool) or not isinstance(reference, str | int) or not str(reference).strip():
        return JsonResponse({"error": "expected JSON with a reference"}, status=400)
    reference = str(reference)
    if len(reference) > REFERENCE_MAX:
        return JsonResponse({"error": f"a reference has at most {REFERENCE_MAX} characters"}, status=400)
    try:
        ticket = services.inbound_update(handoff=handoff, reference=reference,
                                         vuoro_reference=str(data.get("vuoro_reference") or ""),
                                         status=str(data.get("status") or ""),
                                         comment=str(data.get("comment") or ""))
    except (ExternalReference.DoesNotExist, Ticket.DoesNotExist):
        return JsonResponse({"error": "unknown reference"}, status=404)
    except services.ReferenceConflict as conflict:
        return JsonResponse({"error": str(conflict)}, status=409)
    except ValidationError as refused:
        return JsonResponse({"error": " ".join(refused.messages)}, status=400)
    except PermissionDenied:
        return JsonResponse({"error": "no active administrator can act for the external system"},
                            status=503)
    return JsonResponse({"reference": ticket.reference, "status": ticket.status})
