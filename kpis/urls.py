from django.urls import path

from . import views

app_name = "kpis"

urlpatterns = [
    path("kpis/", views.dashboard_view, name="dashboard"),
    path("kpis/print/", views.print_view, name="print"),
    path("kpis/reports/", views.reports, name="reports"),
    path("kpis/reports/email/", views.report_email_choice, name="report_email"),
    path("kpis/reports/<str:month>/", views.report, name="report"),
    path("kpis/forecasts/", views.forecasts, name="forecasts"),
    path("kpis/export/<str:key>.csv", views.export_csv, name="export"),
    path("performance/", views.performance, name="performance"),
]
