"""A message is its Message-ID and content fingerprint; rows kept with their raw copy get theirs.

Rows without a copy keep an empty fingerprint, which matches any content under their Message-ID,
so a redelivery of an old message is still recognised as a duplicate.
"""

from django.db import migrations, models

from vuoro.channels.bounds import fingerprint


def fingerprints_filled(apps, schema_editor):  # type: ignore[no-untyped-def]
    InboundEmail = apps.get_model("channels", "InboundEmail")
    for pk, raw in InboundEmail.objects.exclude(raw=b"").values_list("pk", "raw").iterator(chunk_size=200):
        InboundEmail.objects.filter(pk=pk).update(fingerprint=fingerprint(bytes(raw)))


class Migration(migrations.Migration):

    dependencies = [
        ('channels', '0003_mailbox_triage_tls_lease'),
        ('tickets', '0005_event_kinds'),
    ]

    operations = [
        migrations.AddField(
            model_name='inboundemail',
            name='fingerprint',
            field=models.CharField(blank=True, default='', editable=False, help_text='SHA-256 of the sender, subject, date and body: tells the same message delivered again from another message reusing its Message-ID.', max_length=64, verbose_name='content fingerprint'),
        ),
        migrations.AddField(
            model_name='inboundemail',
            name='message_id_reused',
            field=models.BooleanField(default=False, help_text='Another, different message with this Message-ID was received before.', verbose_name='Message-ID reused'),
        ),
        migrations.RunPython(fingerprints_filled, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='inboundemail',
            name='message_id',
            field=models.CharField(max_length=255, verbose_name='Message-ID'),
        ),
        migrations.AddConstraint(
            model_name='inboundemail',
            constraint=models.UniqueConstraint(fields=('message_id', 'fingerprint'), name='inbound_once_per_message'),
        ),
    ]
