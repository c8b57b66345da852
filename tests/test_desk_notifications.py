"""The desk inbox: SLA notices reach the person they are for, and nobody else."""

from django.utils import timezone

from tests import factories as f
from vuoro.notify.models import DeskNotification


def notice(user, ticket, text="SLA breached", key=None):
    return DeskNotification.objects.create(user=user, ticket=ticket, text=text,
                                           key=key or f"k-{user.pk}-{text}", created_at=timezone.now())


def test_inbox_lists_own_notices_with_unread_count(world, client):
    ticket = f.ticket(world.requester_a, world.other, world.cat_other)
    notice(world.agent, ticket, "Resolution target passed")
    notice(world.agent2, ticket, "Not for agent one")
    client.force_login(world.agent)
    page = client.get("/desk/notifications/").content.decode()
    assert "Resolution target passed" in page and ticket.reference in page
    assert "Not for agent one" not in page
    assert 'class="badge notice-count">1<' in client.get("/desk/").content.decode()


def test_mark_all_read_clears_the_badge(world, client):
    ticket = f.ticket(world.requester_a, world.other, world.cat_other)
    notice(world.agent, ticket)
    client.force_login(world.agent)
    response = client.post("/desk/notifications/")
    assert response.status_code == 302
    assert DeskNotification.objects.get().read_at is not None
    assert "notice-count" not in client.get("/desk/").content.decode()


def test_requesters_have_no_desk_inbox(world, client):
    client.force_login(world.requester_a)
    assert client.get("/desk/notifications/").status_code == 403
