"""The personal API tokens page: issue (shown once), list, revoke; only one's own tokens."""

from tests import factories as f
from vuoro.accounts.models import ApiToken
from vuoro.accounts.services import api_token_authenticate

URL = "/account/tokens/"


def test_page_needs_sign_in(client, world):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_issued_token_is_shown_once_and_works(login, world):
    client = login(world.agent)
    response = client.post(URL, {"action": "issue", "name": "Monitoring"})
    plain = response.context["issued"]
    assert response.status_code == 200
    assert plain in response.content.decode()
    assert api_token_authenticate(plain) == world.agent
    assert plain not in client.get(URL).content.decode()


def test_page_lists_only_own_tokens(login, world):
    f.api_token(world.agent, name="Agent's script")
    f.api_token(world.agent2, name="Someone else's")
    page = login(world.agent).get(URL).content.decode()
    assert "Agent&#x27;s script" in page
    assert "Someone else" not in page


def test_token_without_name_is_refused(login, world):
    response = login(world.requester_a).post(URL, {"action": "issue", "name": "  "})
    assert response.status_code == 400
    assert response.context["error"]
    assert not ApiToken.objects.exists()


def test_revoked_token_stops_working(login, world):
    plain = f.api_token(world.requester_a)
    token = ApiToken.objects.get(user=world.requester_a)
    response = login(world.requester_a).post(URL, {"action": "revoke", "token": token.pk})
    assert response.status_code == 302
    assert api_token_authenticate(plain) is None


def test_cannot_revoke_someone_elses_token(login, world):
    plain = f.api_token(world.agent2)
    token = ApiToken.objects.get(user=world.agent2)
    login(world.agent).post(URL, {"action": "revoke", "token": token.pk})
    assert api_token_authenticate(plain) == world.agent2
