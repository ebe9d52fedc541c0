from django.db import models


class Item(models.Model):
    name = models.CharField(max_length=100)
    price = models.DecimalField(max_digits=8, decimal_places=2)
    stock = models.PositiveIntegerField(default=0)
    added = models.DateTimeField()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Message(models.Model):
    name = models.CharField(max_length=60)
    email = models.EmailField()
    body = models.TextField(max_length=500)

    def __str__(self):
        return f"{self.name} <{self.email}>"
