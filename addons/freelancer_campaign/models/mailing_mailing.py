from odoo import fields, models
from odoo.fields import Domain


class MailingMailing(models.Model):
    _inherit = "mailing.mailing"

    fan_campaign_id = fields.Many2one(
        comodel_name="fan.campaign",
        string="Cross-Channel Campaign",
        readonly=True,
        ondelete="set null",
        index="btree_not_null",
    )

    def _get_recipients_domain(self):
        """Keep only the fans the campaign assigned to this mailing's channel."""
        domain = super()._get_recipients_domain()
        if not self.fan_campaign_id:
            return domain
        channel = "sms" if self.mailing_type == "sms" else "email"
        partners = self.fan_campaign_id.recipient_ids.filtered(
            lambda recipient: (
                recipient.channel == channel and recipient.state in ("planned", "sent")
            )
        ).partner_id
        return domain & Domain("id", "in", partners.ids)
