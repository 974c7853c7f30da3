from odoo import api, fields, models
from odoo.exceptions import UserError

CONSENT_CHANNELS = [("email", "Email"), ("sms", "SMS"), ("wechat", "WeChat")]

CONSENT_ACTIONS = [
    ("grant", "Granted"),
    ("request", "Awaiting Confirmation"),
    ("withdraw", "Withdrawn"),
]

CONSENT_SOURCES = [
    ("web_form", "Web Form"),
    ("import", "Import"),
    ("wechat_follow", "WeChat Follow"),
    ("double_optin", "Double Opt-in Confirmation"),
    ("manual", "Manual"),
    ("unsubscribe_link", "Unsubscribe Link"),
    ("preference_page", "Preference Page"),
    ("sms_reply", "SMS Reply"),
    ("wechat_unfollow", "WeChat Unfollow"),
    ("bounce", "Bounce Suppression"),
    ("erasure", "Personal Data Erasure"),
]

# Consent state of a channel, derived from the newest ledger entry.
CONSENT_STATES = [
    ("none", "No Consent"),
    ("pending", "Awaiting Confirmation"),
    ("granted", "Granted"),
    ("withdrawn", "Withdrawn"),
]
ERASABLE_FIELDS = {"address", "ip_address", "user_agent", "proof", "attachment_id"}
ACTION_TO_STATE = {"grant": "granted", "request": "pending", "withdraw": "withdrawn"}


class FanConsent(models.Model):
    """Consent ledger entry: one grant, request or withdrawal for one channel.

    Entries are evidence under PIPL Art. 15, so they are never edited or
    deleted; a change of mind is a new entry.
    """

    _name = "fan.consent"
    _description = "Consent Ledger Entry"
    _order = "date desc, id desc"
    _rec_name = "partner_id"

    partner_id = fields.Many2one(
        comodel_name="res.partner", required=True, ondelete="restrict", index=True
    )
    channel = fields.Selection(CONSENT_CHANNELS, required=True)
    action = fields.Selection(CONSENT_ACTIONS, required=True)
    source = fields.Selection(CONSENT_SOURCES, required=True)
    date = fields.Datetime(required=True, default=fields.Datetime.now, index=True)
    address = fields.Char(help="Email address, mobile number or OpenID the entry is about.")
    ip_address = fields.Char(string="IP Address")
    user_agent = fields.Char()
    proof = fields.Text(help="Form, file or message that proves the entry.")
    attachment_id = fields.Many2one(comodel_name="ir.attachment", ondelete="restrict")
    user_id = fields.Many2one(
        comodel_name="res.users",
        string="Recorded By",
        default=lambda self: self.env.user,
        ondelete="restrict",
    )
    res_model = fields.Char(string="Origin Model")
    res_id = fields.Many2oneReference(string="Origin Record", model_field="res_model")

    _partner_channel_index = models.Index("(partner_id, channel, date DESC, id DESC)")

    def write(self, vals):
        # Erasure (PIPL Art. 47) removes the personal data an entry contains
        # and keeps the rest as evidence; nothing else may change an entry.
        if set(vals) <= ERASABLE_FIELDS and self.env.context.get("fan_consent_erasure"):
            return super().write(vals)
        raise UserError(
            self.env._("Consent ledger entries cannot be changed. Record a new entry instead.")
        )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_ledger(self):
        raise UserError(self.env._("Consent ledger entries cannot be deleted."))

    @api.model
    def _current_states(self, partner_ids):
        """Return ``{(partner_id, channel): state}`` from the newest entry of each pair."""
        if not partner_ids:
            return {}
        self.env.cr.execute(
            """
            SELECT DISTINCT ON (partner_id, channel) partner_id, channel, action
              FROM fan_consent
             WHERE partner_id = ANY(%s)
          ORDER BY partner_id, channel, date DESC, id DESC
            """,
            [list(partner_ids)],
        )
        return {
            (partner_id, channel): ACTION_TO_STATE[action]
            for partner_id, channel, action in self.env.cr.fetchall()
        }
