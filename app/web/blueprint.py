"""The one blueprint of the marketplace's pages (endpoints ``web.*``), shared by the
view modules."""

from flask import Blueprint

bp = Blueprint("web", __name__)
