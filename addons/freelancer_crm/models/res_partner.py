import logging

from odoo import api, fields, models
from odoo.fields import Domain

from ..tools import normalize_email, normalize_phone
from .fan_consent import CONSENT_STATES

_logger = logging.getLogger(__name__)

FAN_SOURCES = [
    ("import", "Import"),
    ("wechat", "WeChat"),
    ("web_form", "Web Form"),
    ("weibo", "Weibo"),
    ("manual", "Manual"),
]

# Identity channels in the order they are trusted to recognise a person.
MATCH_ORDER = ("wechat_unionid", "wechat_openid", "weibo", "website", "mobile", "email")


class ResPartner(models.Model):
    _inherit = "res.partner"

    is_fan = fields.Boolean(index=True, help="Part of the creator's audience.")
    fan_source = fields.Selection(FAN_SOURCES)
    fan_mobile = fields.Char(
        string="Normalised Mobile",
        compute="_compute_fan_mobile",
        store=True,
        index=True,
        help="The phone number in E.164 form, used to recognise the same person.",
    )
    fan_identity_ids = fields.One2many(
        comodel_name="fan.identity", inverse_name="partner_id", string="Channel Identities"
    )
    fan_consent_ids = fields.One2many(
        comodel_name="fan.consent", inverse_name="partner_id", string="Consent Ledger"
    )
    fan_interaction_ids = fields.One2many(
        comodel_name="fan.interaction", inverse_name="partner_id", string="Interactions"
    )
    fan_interaction_count = fields.Integer(
        string="Interaction Count", compute="_compute_fan_interaction_count"
    )
    consent_email = fields.Selection(
        CONSENT_STATES,
        string="Email Consent",
        compute="_compute_consent_states",
        store=True,
        index=True,
    )
    consent_sms = fields.Selection(
        CONSENT_STATES,
        string="SMS Consent",
        compute="_compute_consent_states",
        store=True,
        index=True,
    )
    consent_wechat = fields.Selection(
        CONSENT_STATES,
        string="WeChat Consent",
        compute="_compute_consent_states",
        store=True,
        index=True,
    )
    fan_score = fields.Float(
        string="Engagement Score",
        readonly=True,
        digits=(16, 2),
        help="Sum of the weights of the fan's interactions, each halved every "
        "half-life, plus money spent times its weight.",
    )
    fan_tier_id = fields.Many2one(
        comodel_name="fan.tier",
        readonly=True,
        index=True,
        group_expand="_read_group_fan_tier_ids",
    )
    fan_tier_level = fields.Integer(related="fan_tier_id.level", string="Tier Level")
    fan_last_interaction_date = fields.Datetime(string="Last Interaction", readonly=True)

    # ------------------------------------------------------------
    # COMPUTES
    # ------------------------------------------------------------

    @api.depends("phone")
    def _compute_fan_mobile(self):
        for partner in self:
            partner.fan_mobile = normalize_phone(partner.phone)

    def _compute_fan_interaction_count(self):
        counts = dict(
            self.env["fan.interaction"]._read_group(
                [("partner_id", "in", self.ids)], ["partner_id"], ["__count"]
            )
        )
        for partner in self:
            partner.fan_interaction_count = counts.get(partner, 0)

    @api.depends("fan_consent_ids")
    def _compute_consent_states(self):
        self.env["fan.consent"].flush_model()
        states = self.env["fan.consent"]._current_states(self.ids)
        for partner in self:
            partner.consent_email = states.get((partner.id, "email"), "none")
            partner.consent_sms = states.get((partner.id, "sms"), "none")
            partner.consent_wechat = states.get((partner.id, "wechat"), "none")

    @api.model
    def _read_group_fan_tier_ids(self, tiers, _domain):
        return tiers.search([])

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_view_fan_interactions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "freelancer_crm.fan_interaction_action"
        )
        action["domain"] = [("partner_id", "=", self.id)]
        action["context"] = {"default_partner_id": self.id}
        return action

    def action_fan_recompute(self):
        """Recompute score and tier of the selected fans (list view action menu)."""
        self._fan_recompute_scores()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._(
                    "Score and tier recomputed for %(count)s fans.", count=len(self)
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    # ------------------------------------------------------------
    # IDENTITIES AND CONSENT
    # ------------------------------------------------------------

    @api.model
    def _fan_find(self, identities, account_key=""):
        """Return the partners matching ``identities`` (``{channel: value}``).

        The result holds one partner when the identities point to one person, and
        several when they point to different people (an ambiguous match the
        caller must not merge silently).
        """
        Identity = self.env["fan.identity"].sudo()
        found = self.browse()
        for channel in MATCH_ORDER:
            value = Identity._normalize_value(channel, identities.get(channel))
            if not value:
                continue
            key = account_key if channel == "wechat_openid" else ""
            identity = Identity.search(
                [("channel", "=", channel), ("account_key", "=", key), ("value", "=", value)],
                limit=1,
            )
            partners = identity.partner_id
            if not partners and channel == "mobile":
                partners = self.sudo().search([("fan_mobile", "=", value)], limit=2)
            elif not partners and channel == "email":
                partners = self.sudo().search([("email_normalized", "=", value)], limit=2)
            found |= partners
        return found

    def _fan_add_identities(self, identities, account_key="", source=""):
        """Attach the identities that the partner does not have yet."""
        self.ensure_one()
        Identity = self.env["fan.identity"].sudo()
        for channel, raw in identities.items():
            value = Identity._normalize_value(channel, raw)
            if not value:
                continue
            key = account_key if channel == "wechat_openid" else ""
            existing = Identity.with_context(active_test=False).search(
                [("channel", "=", channel), ("account_key", "=", key), ("value", "=", value)],
                limit=1,
            )
            if not existing:
                Identity.create(
                    {
                        "partner_id": self.id,
                        "channel": channel,
                        "value": value,
                        "account_key": key,
                        "source": source,
                    }
                )

    def _fan_record_consent(self, channel, action, source, **proof):
        """Append one consent ledger entry per partner and return the entries.

        ``proof`` takes the evidence fields of ``fan.consent``: address,
        ip_address, user_agent, proof, attachment_id, res_model, res_id.
        """
        values = [
            dict(proof, partner_id=partner.id, channel=channel, action=action, source=source)
            for partner in self
        ]
        entries = self.env["fan.consent"].sudo().create(values)
        _logger.info("Consent %s on %s from %s for partners %s", action, channel, source, self.ids)
        return entries

    def _fan_log_interaction(self, interaction_type, **values):
        """Add one interaction per partner to the timeline and return them."""
        return (
            self.env["fan.interaction"]
            .sudo()
            .create(
                [
                    dict(values, partner_id=partner.id, interaction_type=interaction_type)
                    for partner in self
                ]
            )
        )

    @api.model
    def _fan_consent_domain(self, channel):
        """Return the domain of partners who may receive marketing on ``channel``."""
        if channel == "email":
            return Domain("consent_email", "=", "granted") & Domain("email_normalized", "!=", False)
        if channel == "sms":
            return Domain("consent_sms", "=", "granted") & Domain("fan_mobile", "!=", False)
        if channel == "wechat":
            return Domain("consent_wechat", "=", "granted") & Domain(
                "fan_identity_ids.channel", "=", "wechat_openid"
            )
        raise ValueError(f"Unknown channel {channel!r}")

    # ------------------------------------------------------------
    # SCORE AND TIERS
    # ------------------------------------------------------------

    @api.model
    def _fan_score_parameters(self):
        params = self.env["ir.config_parameter"].sudo()
        return {
            "half_life": max(
                float(params.get_param("freelancer_crm.score_half_life_days", 90)), 1.0
            ),
            "money_weight": float(params.get_param("freelancer_crm.score_money_weight", 0.1)),
            "dormant_days": int(params.get_param("freelancer_crm.dormant_after_days", 90)),
        }

    def _fan_recompute_scores(self):
        """Recompute score, tier and last interaction in one SQL statement.

        Called on ``self`` (incremental) or on an empty recordset with
        ``all_fans=True`` in the context (the nightly full recompute). Working
        set-based keeps a full recompute of 100,000 fans to a few seconds,
        where a per-record ORM loop takes minutes.
        """
        full = self.env.context.get("fan_recompute_all")
        if not full and not self:
            return
        self.env["fan.interaction"].flush_model()
        self.env["fan.score.rule"].flush_model()
        self.env["fan.tier"].flush_model()
        self.flush_model(["is_fan"])
        params = self._fan_score_parameters()
        now = fields.Datetime.now()
        where = "p.is_fan" if full else "p.id = ANY(%(ids)s)"
        query = f"""
            WITH scores AS (
                SELECT p.id AS partner_id,
                       COALESCE(SUM(
                           (COALESCE(r.weight, 0) + COALESCE(i.amount, 0) * %(money_weight)s)
                           * power(0.5, GREATEST(EXTRACT(EPOCH FROM (%(now)s - i.date)), 0)
                                        / 86400.0 / %(half_life)s)
                       ), 0) AS score,
                       MAX(i.date) AS last_date
                  FROM res_partner p
             LEFT JOIN fan_interaction i ON i.partner_id = p.id
             LEFT JOIN fan_score_rule r ON r.interaction_type = i.interaction_type AND r.active
                 WHERE {where}
              GROUP BY p.id
            ),
            dormant AS (
                SELECT id FROM fan_tier WHERE is_dormant IS TRUE ORDER BY level LIMIT 1
            )
            UPDATE res_partner p
               SET fan_score = round(s.score::numeric, 2),
                   fan_last_interaction_date = s.last_date,
                   fan_tier_id = CASE
                       WHEN s.last_date < %(dormant_cutoff)s
                            AND (SELECT id FROM dormant) IS NOT NULL
                           THEN (SELECT id FROM dormant)
                       ELSE (SELECT t.id FROM fan_tier t
                              WHERE t.is_dormant IS NOT TRUE AND t.min_score <= s.score
                           ORDER BY t.min_score DESC, t.level DESC LIMIT 1)
                   END
              FROM scores s
             WHERE p.id = s.partner_id
        """
        self.env.cr.execute(
            query,
            {
                "ids": self.ids,
                "now": now,
                "half_life": params["half_life"],
                "money_weight": params["money_weight"],
                "dormant_cutoff": fields.Datetime.subtract(now, days=params["dormant_days"]),
            },
        )
        _logger.info("Fan scores recomputed for %s partners", self.env.cr.rowcount)
        self.invalidate_model(["fan_score", "fan_tier_id", "fan_last_interaction_date"])

    @api.model
    def _cron_fan_recompute_all(self):
        self.browse().with_context(fan_recompute_all=True)._fan_recompute_scores()

    @api.model
    def _fan_prepare_vals(self, name=None, email=None, phone=None, **extra):
        """Return values for a new fan partner from raw contact data."""
        vals = dict(extra, is_fan=True)
        vals["name"] = (
            (name or "").strip() or normalize_email(email) or normalize_phone(phone) or "-"
        )
        if email:
            vals["email"] = normalize_email(email) or email.strip()
        if phone:
            vals["phone"] = normalize_phone(phone) or phone.strip()
        return vals
