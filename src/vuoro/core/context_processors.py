from django.conf import settings


def vuoro(request):  # type: ignore[no-untyped-def]
    return {"VUORO_BASE_URL": settings.BASE_URL}
