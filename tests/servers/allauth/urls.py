"""The site's one URL tree: allauth's headless API."""

from django.urls import include, path

urlpatterns = [path("_allauth/", include("allauth.headless.urls"))]
