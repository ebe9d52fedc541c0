from django.contrib import admin
from django.urls import path

from shop import views

urlpatterns = [
    path("", views.index, name="index"),
    path("about/", views.about, name="about"),
    path("items/", views.item_list, name="items"),
    path("items/<int:pk>/", views.item_detail, name="item"),
    path("items.csv", views.items_csv, name="items-csv"),
    path("api/items.json", views.items_json, name="items-json"),
    path("contact/", views.contact, name="contact"),
    path("admin/", admin.site.urls),
]
