"""A visit's finding can become a case (转为诉求): the link from the visit to that case."""
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0001_initial"),
        ("grid", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="visit",
            name="case",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                    related_name="visits", to="cases.case", verbose_name="转为诉求"),
        ),
    ]
