from django.urls import path

from tongban.platform.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("mfa/", views.mfa_view, name="mfa"),
    path("mfa/setup/", views.mfa_setup_view, name="mfa_setup"),
    path("mfa/sm2/", views.mfa_sm2_view, name="mfa_sm2"),
    path("register/", views.register_view, name="register"),
    path("security/", views.security_view, name="security"),
    path("password/", views.password_change_view, name="password_change"),
    path("act-for/", views.act_for_view, name="act_for"),
]
