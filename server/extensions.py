"""Unbound extensions; `create_app` binds them to an app."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy

from server.db import Base
from server.schemas import ErrorSchema


class BetweenApi(Api):
    ERROR_SCHEMA = ErrorSchema  # documents every key our error answers can carry


# Routes commit, then serialise what they return: expiring it on commit would reload
# every object with one more SELECT each (nothing here relies on server-side defaults).
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
login_manager = LoginManager()
api = BetweenApi()
limiter = Limiter(key_func=get_remote_address, headers_enabled=True)
# no Jinja set-up: mails and answers are made in Python, and it would cost every app start
babel = Babel(configure_jinja=False)
