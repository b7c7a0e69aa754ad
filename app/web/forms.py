"""The page forms (Flask-WTF: every form carries its CSRF token).

Money is typed as decimal text and converted exactly with ``ledger.money.parse_minor``
(more decimals than the currency has, or a negative amount, is an error next to the
field).  The services validate again with the shared pydantic schemas."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3's; types-WTForms is 3.2
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from app.marketplace import catalogue
from app.marketplace.models import CAMEO_KINDS, VISIBILITIES
from app.marketplace.schemas import MEDIA, TERRITORY
from ledger.money import CURRENCY_EXPONENTS, MoneyError, parse_minor

from .filters import KIND_LABELS, MEDIA_LABELS, VISIBILITY_LABELS

CURRENCIES = sorted(CURRENCY_EXPONENTS)
INTENDED_USE_HINT = "Say what you will make, where it will appear and how the cameo is used (at least 40 characters)."


def parse_money(text: str, currency: str) -> int:
    """Decimal text → minor units, or a ``ValidationError`` saying what is wrong."""
    if not currency or currency not in CURRENCY_EXPONENTS:
        raise ValidationError("Choose a currency first.")
    try:
        minor = parse_minor(text, currency)
    except MoneyError as exc:
        raise ValidationError(f"Enter an amount like 12.50 ({exc}).") from None
    if minor < 0:
        raise ValidationError("The amount must not be negative.")
    return minor


def options(pairs) -> list[SelectChoice]:
    """``[(value, label), …]`` as WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]


def territory_list(text: str) -> list[str]:
    """``"us, ca"`` → ``["US", "CA"]``; each must be ISO 3166-1 alpha-2 or WORLDWIDE."""
    codes = [part.strip().upper() for part in (text or "").replace(";", ",").split(",") if part.strip()]
    bad = [code for code in codes if not TERRITORY.match(code)]
    if bad:
        raise ValidationError(f"Not a territory code: {', '.join(bad)} (use e.g. US, GB or WORLDWIDE).")
    return codes


class CheckboxesField(SelectMultipleField):
    """A group of checkboxes (rendered as a fieldset by the ``checkboxes`` macro)."""


def category_choices() -> list[SelectChoice]:
    return options(catalogue.categories().items())


class CameoForm(FlaskForm):
    kind = SelectField("Kind", choices=options([(k, KIND_LABELS[k]) for k in CAMEO_KINDS]), validators=[DataRequired()])
    title = StringField("Title", validators=[DataRequired("Give the cameo a title."), Length(max=120)])
    description = TextAreaField("Description", validators=[Length(max=4000)])
    visibility = SelectField(
        "Who may license it", choices=options([(v, VISIBILITY_LABELS[v]) for v in VISIBILITIES]), default="licensed"
    )
    blocked_categories = CheckboxesField("Blocked categories (no licence can override these)")
    preview = FileField("Preview image (PNG, JPEG or WebP)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.blocked_categories.choices = category_choices()


class PermissionsForm(FlaskForm):
    visibility = SelectField("Who may license it", choices=options([(v, VISIBILITY_LABELS[v]) for v in VISIBILITIES]))
    approved_brand_ids = CheckboxesField("Approved brands", coerce=int)
    blocked_categories = CheckboxesField("Blocked categories (no licence can override these)")

    def __init__(self, *args, organisations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.approved_brand_ids.choices = options([(org.id, org.name) for org in organisations])
        self.blocked_categories.choices = category_choices()


class OwnerRow(Form):
    email = StringField("Co-owner e-mail", validators=[Length(max=254)])
    share = StringField("Share (%)", validators=[Length(max=12)])

    def validate_share(self, field):
        if not self.email.data and not field.data:
            return
        if not field.data:
            raise ValidationError("Enter the owner's share in per cent.")
        try:
            bps = Decimal(field.data.strip().rstrip("%")) * 100
        except InvalidOperation:
            raise ValidationError("Enter a percentage like 30 or 12.5.") from None
        if bps != bps.to_integral_value() or not 0 < bps <= 10_000:
            raise ValidationError("A share is more than 0 and at most 100 %, with up to two decimals.")
        if not self.email.data:
            raise ValidationError("Enter whose share this is.")

    def share_bps(self) -> int:
        return int(Decimal((self.share.data or "").strip().rstrip("%")) * 100)


class OwnersForm(FlaskForm):
    owners = FieldList(FormField(OwnerRow), min_entries=4, max_entries=20)


class ConsentForm(FlaskForm):
    statement_sha256 = HiddenField(validators=[DataRequired(), Length(min=64, max=64)])
    recording = FileField(
        "Liveness recording (MP4, WebM, MOV, WAV or Ogg)", validators=[FileRequired("Upload the liveness recording.")]
    )
    accept_statement = BooleanField(
        "I have read the statement above and give this consent",
        validators=[DataRequired("Tick the box to sign the consent statement.")],
    )


class OfferForm(FlaskForm):
    template_id = SelectField("Contract template", coerce=int, validators=[InputRequired()])
    media = CheckboxesField(
        "Media",
        choices=options([(m, MEDIA_LABELS[m]) for m in MEDIA]),
        validators=[DataRequired("Choose at least one medium.")],
    )
    territories = StringField(
        "Territories", default="WORLDWIDE", validators=[DataRequired("Name at least one territory.")]
    )
    term_days = IntegerField("Term (days)", default=90, validators=[InputRequired(), NumberRange(1, 3650)])
    exclusivity = BooleanField("Exclusive")
    usage_cap = IntegerField("Usage cap (uses; empty for unlimited)", validators=[Optional(), NumberRange(1, 10**12)])
    currency = SelectField("Currency", choices=options([(c, c) for c in CURRENCIES]), default="USD")
    upfront_fee = StringField("Upfront fee", default="0", validators=[InputRequired()])
    per_use_royalty = StringField("Royalty per use", default="0", validators=[InputRequired()])
    holdback_days = IntegerField("Holdback (days)", default=0, validators=[InputRequired(), NumberRange(0, 365)])
    revocation_notice_days = IntegerField(
        "Revocation notice (days)", default=30, validators=[InputRequired(), NumberRange(0, 365)]
    )
    requires_approval = BooleanField("I approve each request myself", default=True)

    def __init__(self, *args, templates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.template_id.choices = options([(t.id, f"{t.title} (v{t.version})") for t in templates])

    def validate_territories(self, field):
        self.territory_codes = territory_list(field.data)

    def validate_upfront_fee(self, field):
        self.upfront_fee_minor = parse_money(field.data, self.currency.data)

    def validate_per_use_royalty(self, field):
        self.per_use_royalty_minor = parse_money(field.data, self.currency.data)

    def offer_data(self) -> dict:
        money = {"currency": self.currency.data}
        return {
            "template_id": self.template_id.data,
            "media": list(self.media.data or []),
            "territories": self.territory_codes,
            "term_days": self.term_days.data,
            "exclusivity": bool(self.exclusivity.data),
            "usage_cap": self.usage_cap.data,
            "upfront_fee": {"amount_minor": self.upfront_fee_minor, **money},
            "per_use_royalty": {"amount_minor": self.per_use_royalty_minor, **money},
            "holdback_days": self.holdback_days.data,
            "revocation_notice_days": self.revocation_notice_days.data,
            "requires_approval": bool(self.requires_approval.data),
        }


class LicenceRequestForm(FlaskForm):
    offer_id = SelectField("Offer", coerce=int, validators=[InputRequired()])
    intended_use = TextAreaField(
        "Intended use",
        validators=[
            DataRequired("Describe the intended use."),
            Length(
                min=40,
                max=4000,
                message="Describe the intended use in 40 to 4000 characters: "
                "what you will make, where it appears and how the cameo is used.",
            ),
        ],
    )
    media = CheckboxesField("Media (leave all unticked for everything the offer covers)")
    territories = CheckboxesField("Territories (leave all unticked for everything the offer covers)")
    categories = CheckboxesField("Content categories of the intended use")

    def __init__(self, *args, offers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.offer_id.choices = options([(o.id, f"Offer #{o.id}") for o in offers])
        media = sorted({m for o in offers for m in o.media}, key=MEDIA.index)
        self.media.choices = options([(m, MEDIA_LABELS[m]) for m in media])
        self.territories.choices = options([(t, t) for t in sorted({t for o in offers for t in o.territories})])
        self.categories.choices = category_choices()


class SignForm(FlaskForm):
    contract_sha256 = HiddenField(validators=[DataRequired(), Length(min=64, max=64)])
    confirm = BooleanField(
        "I have read the contract above and sign it", validators=[DataRequired("Tick the box to sign the contract.")]
    )


class ReasonForm(FlaskForm):
    reason = TextAreaField("Reason (optional, shown to the other party)", validators=[Length(max=500)])


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class SearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = StringField("Search", validators=[Optional(), Length(max=100)])
    kind = SelectField(
        "Kind",
        choices=options([("", "Any kind")] + [(k, KIND_LABELS[k]) for k in CAMEO_KINDS]),
        validators=[Optional()],
    )
    category = SelectField("Usable for", validators=[Optional()])
    currency = SelectField(
        "Currency", choices=options([("", "Any currency")] + [(c, c) for c in CURRENCIES]), validators=[Optional()]
    )
    price_min = StringField("Upfront fee from", validators=[Optional(), Length(max=20)])
    price_max = StringField("Upfront fee up to", validators=[Optional(), Length(max=20)])
    territory = StringField("Territory", validators=[Optional(), Length(max=9)])
    page = IntegerField("Page", default=1, validators=[Optional(), NumberRange(1, 10_000)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.category.choices = options([("", "Any use")]) + category_choices()
        self.min_minor = self.max_minor = self.territory_code = None

    def _price(self, field):
        if field.data:
            if not self.currency.data:
                raise ValidationError("Choose a currency to filter by price.")
            return parse_money(field.data, self.currency.data)
        return None

    def validate_price_min(self, field):
        self.min_minor = self._price(field)

    def validate_price_max(self, field):
        self.max_minor = self._price(field)

    def validate_territory(self, field):
        codes = territory_list(field.data)
        if len(codes) > 1:
            raise ValidationError("Filter by one territory at a time.")
        self.territory_code = codes[0] if codes else None
