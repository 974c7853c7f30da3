import logging

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.fields import Domain
from odoo.tools import escape_psql
from odoo.tools.safe_eval import safe_eval

from .fan_consent import CONSENT_CHANNELS

_logger = logging.getLogger(__name__)

# Limit of the "... in the last N days" conditions: 100 years, far beyond any
# interaction date, and far below the day count that overflows a datetime.
MAX_DAYS = 36500

DAYS_FIELDS = ("interacted_days", "opened_days", "clicked_days")


class FanSegment(models.Model):
    _name = "fan.segment"
    _description = "Fan Segment"
    _order = "name"

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    description = fields.Text()
    min_tier_id = fields.Many2one(
        comodel_name="fan.tier",
        string="Tier or Above",
        help="Keep fans in this tier or a closer one.",
    )
    tier_ids = fields.Many2many(
        comodel_name="fan.tier", string="Tiers", help="Keep fans in any of these tiers."
    )
    consent_channel = fields.Selection(
        CONSENT_CHANNELS,
        string="Consent On",
        help="Keep only fans who granted consent on this channel.",
    )
    category_ids = fields.Many2many(comodel_name="res.partner.category", string="Tags")
    city = fields.Char(
        help="Keep fans whose city contains this text, ignoring case. % and _ are plain "
        "characters here, not wildcards."
    )
    interacted_days = fields.Integer(
        string="Interacted in Last (Days)",
        help="Keep fans with at least one interaction in this many days, from 1 to 36500. "
        "0 means any time.",
    )
    opened_days = fields.Integer(
        string="Opened an Email in Last (Days)",
        help="Keep fans who opened an email in this many days, from 1 to 36500. "
        "0 means no condition.",
    )
    clicked_days = fields.Integer(
        string="Clicked a Link in Last (Days)",
        help="Keep fans who clicked a link in an email in this many days, from 1 to 36500. "
        "0 means no condition.",
    )
    follows_wechat = fields.Boolean(
        string="Follows on WeChat", help="Keep fans who follow the WeChat Official Account."
    )
    purchased = fields.Boolean(
        string="Bought Something", help="Keep fans with at least one purchase or payment."
    )
    extra_domain = fields.Char(
        string="Advanced Filter",
        default="[]",
        help="Extra conditions on contacts, as an Odoo domain.",
    )
    partner_count = fields.Integer(string="Fans", compute="_compute_counts")
    email_count = fields.Integer(string="Reachable by Email", compute="_compute_counts")
    sms_count = fields.Integer(string="Reachable by SMS", compute="_compute_counts")
    wechat_count = fields.Integer(string="Reachable on WeChat", compute="_compute_counts")

    @api.constrains(*DAYS_FIELDS)
    def _check_days(self):
        for segment in self:
            for field_name in DAYS_FIELDS:
                days = segment[field_name]
                if 0 <= days <= MAX_DAYS:
                    continue
                raise ValidationError(
                    self.env._(
                        "“%(field)s” of segment “%(segment)s” is %(days)s. Enter a number of "
                        "days from 1 to %(max)s, or 0 for no condition.",
                        field=self._fields[field_name]._description_string(self.env),
                        segment=segment.name,
                        days=days,
                        max=MAX_DAYS,
                    )
                )

    @api.constrains("extra_domain")
    def _check_extra_domain(self):
        for segment in self:
            try:
                domain = Domain(safe_eval(segment.extra_domain or "[]"))
                self.env["res.partner"].search_count(domain, limit=1)
            except Exception as error:  # any syntax, name or field error of user input
                raise ValidationError(
                    self.env._(
                        "The advanced filter of segment “%(segment)s” is not a valid domain: "
                        "%(error)s",
                        segment=segment.name,
                        error=error,
                    )
                ) from error

    @api.depends(
        "min_tier_id",
        "tier_ids",
        "consent_channel",
        "category_ids",
        "city",
        "interacted_days",
        "opened_days",
        "clicked_days",
        "follows_wechat",
        "purchased",
        "extra_domain",
    )
    def _compute_counts(self):
        Partner = self.env["res.partner"]
        for segment in self:
            try:
                domain = segment._get_partner_domain()
                # Checked here so that a bad stored filter fails before any SQL.
                domain.validate(Partner)
            except Exception:  # any error of a stored user filter; logged below
                # A segment saved before its checks existed, or whose advanced
                # filter names a field that was removed since, must not break
                # the list of every segment.
                _logger.exception("Cannot count the fans of segment %s", segment.id)
                segment.partner_count = segment.email_count = 0
                segment.sms_count = segment.wechat_count = 0
                continue
            segment.partner_count = Partner.search_count(domain)
            segment.email_count = Partner.search_count(
                domain & Partner._fan_consent_domain("email")
            )
            segment.sms_count = Partner.search_count(domain & Partner._fan_consent_domain("sms"))
            segment.wechat_count = Partner.search_count(
                domain & Partner._fan_consent_domain("wechat")
            )

    def _get_partner_domain(self, channel=None):
        """Return the domain of the segment's members, reachable on ``channel`` if given."""
        self.ensure_one()
        domain = Domain("is_fan", "=", True)
        if self.min_tier_id:
            domain &= Domain("fan_tier_id.level", ">=", self.min_tier_id.level)
        if self.tier_ids:
            domain &= Domain("fan_tier_id", "in", self.tier_ids.ids)
        if self.category_ids:
            domain &= Domain("category_id", "in", self.category_ids.ids)
        city = (self.city or "").strip()
        if city:
            # =ilike with the wildcards of the text escaped: "%" and "_" match
            # themselves, not any city.
            domain &= Domain("city", "=ilike", f"%{escape_psql(city)}%")
        since = self._get_since(self.interacted_days)
        if since:
            domain &= Domain("fan_last_interaction_date", ">=", since)
        for days, interaction_type in (
            (self.opened_days, "email_open"),
            (self.clicked_days, "email_click"),
        ):
            since = self._get_since(days)
            if since:
                domain &= Domain(
                    "fan_interaction_ids",
                    "any",
                    [("interaction_type", "=", interaction_type), ("date", ">=", since)],
                )
        if self.follows_wechat:
            domain &= Domain("consent_wechat", "=", "granted")
        if self.purchased:
            domain &= Domain("fan_interaction_ids", "any", [("interaction_type", "=", "purchase")])
        if self.extra_domain and self.extra_domain.strip() not in ("", "[]"):
            domain &= Domain(safe_eval(self.extra_domain))
        consent_channel = channel or self.consent_channel
        if consent_channel:
            domain &= self.env["res.partner"]._fan_consent_domain(consent_channel)
        return domain

    @api.model
    def _get_since(self, days):
        """Return the datetime ``days`` days ago, or ``False`` for no condition.

        0 means no condition. A value outside 0..MAX_DAYS, stored before the
        check existed, is clamped so that it cannot overflow a datetime.
        """
        if not days:
            return False
        days = min(max(days, 1), MAX_DAYS)
        return fields.Datetime.subtract(fields.Datetime.now(), days=days)

    def action_view_partners(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "freelancer_crm.res_partner_action_fans"
        )
        action["domain"] = list(self._get_partner_domain())
        action["context"] = {}
        action["display_name"] = self.name
        return action
