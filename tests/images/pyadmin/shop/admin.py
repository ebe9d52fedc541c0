from django.contrib import admin

from .models import Item, Message


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ["name", "price", "stock", "added"]
    list_filter = ["added"]
    search_fields = ["name"]
    date_hierarchy = "added"


admin.site.register(Message)
