from django.urls import path

from tongban.platform.calendar import views

app_name = "calendar"
urlpatterns = [path("", views.index, name="index")]
