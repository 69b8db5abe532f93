from django.urls import path

from . import views

app_name = "permits"

urlpatterns = [
    path("permits/", views.index, name="index"),
    path("permits/apply/", views.apply, name="apply"),
    path("permits/search/", views.search, name="search"),
    path("permits/apply/<uuid:public_id>/", views.task_list, name="task_list"),
    path(
        "permits/apply/<uuid:public_id>/applicant/",
        views.section_applicant,
        name="section_applicant",
    ),
    path("permits/apply/<uuid:public_id>/project/", views.section_project, name="section_project"),
    path(
        "permits/apply/<uuid:public_id>/questions/",
        views.section_questions,
        name="section_questions",
    ),
    path(
        "permits/apply/<uuid:public_id>/documents/",
        views.section_documents,
        name="section_documents",
    ),
    path("permits/apply/<uuid:public_id>/review/", views.section_review, name="section_review"),
    path("permits/apply/<uuid:public_id>/withdraw/", views.withdraw, name="withdraw"),
    path("permits/files/<uuid:public_id>/<int:document_id>/", views.document, name="document"),
    path("permits/<str:number>/", views.detail, name="detail"),
    path("permits/<str:number>/submitted/", views.submitted, name="submitted"),
    path("permits/<str:number>/renew/", views.renew, name="renew"),
    path(
        "open-data/permits.csv",
        views.open_data,
        {"dataset": "permits", "fmt": "csv"},
        name="open_data",
    ),
    path(
        "open-data/permits.json",
        views.open_data,
        {"dataset": "permits", "fmt": "json"},
        name="open_data_json",
    ),
    path(
        "open-data/licenses.csv",
        views.open_data,
        {"dataset": "licenses", "fmt": "csv"},
        name="open_data_licenses",
    ),
    path(
        "open-data/licenses.json",
        views.open_data,
        {"dataset": "licenses", "fmt": "json"},
        name="open_data_licenses_json",
    ),
]
