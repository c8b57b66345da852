"""``User.phone_e164``: the phone in E.164 with index ``user_phone_e164``, filled for existing users."""

from django.db import migrations, models

from vuoro.accounts.phone_numbers import normalise

BATCH = 2000


def fill_phone_e164(apps, schema_editor):
    """Normalise every stored phone once; later saves keep the column up to date."""
    User = apps.get_model("accounts", "User")
    changed = []
    for user in User.objects.exclude(phone="").only("pk", "phone").iterator(chunk_size=BATCH):
        user.phone_e164 = normalise(user.phone) or ""
        if user.phone_e164:
            changed.append(user)
        if len(changed) >= BATCH:
            User.objects.bulk_update(changed, ["phone_e164"])
            changed = []
    User.objects.bulk_update(changed, ["phone_e164"])


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="phone_e164",
            field=models.CharField(blank=True, editable=False, max_length=16),
        ),
        migrations.AddIndex(
            model_name="user",
            index=models.Index(fields=["phone_e164"], name="user_phone_e164"),
        ),
        migrations.RunPython(fill_phone_e164, migrations.RunPython.noop),
    ]
