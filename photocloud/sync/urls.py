from django.urls import path

from . import views

app_name = "sync"

urlpatterns = [
    path("", views.imports, name="imports"),
    path("status/", views.imports_status, name="imports_status"),
]
