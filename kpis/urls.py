from django.urls import path

from . import views

app_name = "kpis"

urlpatterns = [
    path("kpis/", views.dashboard, name="dashboard"),
    path("kpis/forecasts/", views.forecasts, name="forecasts"),
    path("kpis/export/<str:key>.csv", views.export_csv, name="export"),
    path("performance/", views.performance, name="performance"),
]
