from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..tools import is_mobile_number, normalize_email, normalize_phone

IDENTITY_CHANNELS = [
    ("wechat_openid", "WeChat OpenID"),
    ("wechat_unionid", "WeChat UnionID"),
    ("email", "Email"),
    ("mobile", "Mobile"),
    ("weibo", "Weibo UID"),
    ("website", "Website Account"),
]

# Longer identifiers are data errors. The cap keeps every row of the unique
# index on (channel, account_key, value) far below PostgreSQL's B-tree limit
# of about 2,700 bytes, even with 4-byte UTF-8 characters.
IDENTITY_VALUE_MAX_LENGTH = 255


class FanIdentity(models.Model):
    _name = "fan.identity"
    _description = "Fan Channel Identity"
    _order = "partner_id, channel, id"
    _rec_name = "value"

    partner_id = fields.Many2one(
        comodel_name="res.partner", required=True, ondelete="cascade", index=True
    )
    channel = fields.Selection(IDENTITY_CHANNELS, required=True)
    value = fields.Char(required=True, help="The identifier, normalised for email and mobile.")
    account_key = fields.Char(
        string="Account",
        default="",
        help="Where the identifier is valid: the AppID of the WeChat Official Account for "
        "an OpenID, empty for identifiers that are the same everywhere.",
    )
    source = fields.Char(help="How the identity was learned: import, WeChat follow, form...")
    active = fields.Boolean(default=True)

    _value_unique = models.Constraint(
        "UNIQUE(channel, account_key, value)",
        "This identity already belongs to another fan.",
    )
    _lookup_index = models.Index("(channel, value)")

    @api.model
    def _normalize_value(self, channel, value):
        """Return ``value`` normalised for ``channel``, or ``False`` when it is invalid.

        A mobile identity takes only numbers that can receive SMS: a landline is
        no mobile.
        """
        if channel == "email":
            return normalize_email(value)
        if channel == "mobile":
            phone = normalize_phone(value)
            return phone if is_mobile_number(phone) else False
        text = str(value or "").strip()
        if len(text) > IDENTITY_VALUE_MAX_LENGTH:
            return False
        return text or False

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._prepare_value(vals)
        return super().create(vals_list)

    def write(self, vals):
        if "value" in vals or "channel" in vals:
            vals = dict(vals, channel=vals.get("channel") or self[:1].channel)
            self._prepare_value(vals)
        return super().write(vals)

    def _prepare_value(self, vals):
        if "value" not in vals:
            return
        channel = vals.get("channel")
        normalized = self._normalize_value(channel, vals["value"])
        if not normalized and channel == "mobile" and normalize_phone(vals["value"]):
            raise ValidationError(
                self.env._(
                    "“%(value)s” is a landline, not a mobile number. "
                    "Enter it as the contact's phone instead.",
                    value=vals["value"],
                )
            )
        text = str(vals["value"] or "")
        if not normalized and len(text) > IDENTITY_VALUE_MAX_LENGTH:
            raise ValidationError(
                self.env._(
                    "The identifier “%(value)s…” is longer than %(max)s characters.",
                    value=text[:20],
                    max=IDENTITY_VALUE_MAX_LENGTH,
                )
            )
        if not normalized:
            raise ValidationError(
                self.env._(
                    "“%(value)s” is not a valid %(channel)s.",
                    value=text,
                    channel=dict(self._fields["channel"]._description_selection(self.env)).get(
                        vals.get("channel"), vals.get("channel")
                    ),
                )
            )
        vals["value"] = normalized
        vals.setdefault("account_key", "")
        if vals["account_key"] is False:
            vals["account_key"] = ""
        if len(vals["account_key"]) > IDENTITY_VALUE_MAX_LENGTH:
            raise ValidationError(
                self.env._(
                    "The account “%(account)s…” is longer than %(max)s characters.",
                    account=vals["account_key"][:20],
                    max=IDENTITY_VALUE_MAX_LENGTH,
                )
            )
